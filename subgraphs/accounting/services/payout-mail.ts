import type { BusinessDay } from '@popug/lib/business-day';
import { formatCents } from './money';

/** Payout mails: their logical key (one mail per payout) and their text. */
const PAYOUT_MAIL_KEY = /^payout:([0-9a-f-]{36}):(\d{4}-\d{2}-\d{2})$/;

/** The payout a mail key names, or undefined for a mail that is not a payout's. */
export function payoutOfMailKey(key: string): { userId: string; day: BusinessDay } | undefined {
  const match = PAYOUT_MAIL_KEY.exec(key);
  return match ? { userId: match[1] ?? '', day: match[2] ?? '' } : undefined;
}

export const payoutMailKey = (userId: string, day: BusinessDay) => `payout:${userId}:${day}`;

export function payoutMail(to: { email: string; name: string }, amount: number, day: BusinessDay) {
  return {
    to: to.email,
    subject: `You were paid ${formatCents(amount)} for ${day}`,
    text: [
      `Hello ${to.name},`,
      '',
      `You were paid ${formatCents(amount)} for ${day}.`,
      'Your balance is back to $0.00; the audit log of your account in Popug Jira lists every fee and reward behind it.',
    ].join('\n'),
  };
}

