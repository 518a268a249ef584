import { formatMoney } from '../format';

/** Cents as dollars; negative amounts marked for colour and read as "minus". `data-money` marks it for the screen tests (web/test/screen-fit.ts). */
export function Money({ cents, signed = false }: { cents: number; signed?: boolean }) {
  const text = signed && cents > 0 ? `+${formatMoney(cents)}` : formatMoney(cents);
  return <span className={cents < 0 ? 'money negative' : 'money'} data-money="">{text}</span>;
}
