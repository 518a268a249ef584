import { useEffect, useRef, useState } from 'react';
import { useCapabilities } from '../access';
import { AuditLog } from '../accounting/AuditLog';
import { EarningsChart } from '../accounting/EarningsChart';
import { withMovement } from '../accounting/account-updates';
import { useMoneyMoves } from '../accounting/money-moves';
import { useLive, useQuery, useReloadOn } from '../api/hooks';
import { DayPicker } from '../components/DayPicker';
import { Money } from '../components/Money';
import { Empty, QueryView } from '../components/status';
import { useBusinessClock } from '../business-clock';
import { useChosenDay } from '../chosen-day';
import { addDays, formatDay, plural } from '../format';
import {
  AccountDocument,
  AccountsDocument,
  EarningsByDayDocument,
  ManagementEarningsDocument,
  MyAccountDocument,
  MyAccountUpdatesDocument,
} from '../generated/graphql';

export function AccountingPage() {
  const can = useCapabilities();
  // Everyone's accounts and the earnings move as money moves anywhere (./money-moves.ts).
  const moved = useMoneyMoves(can);
  return (
    <>
      <h1>Accounting</h1>
      <MyAccount live={can.ownAccount} />
      <Earnings version={moved} />
      <Accounts version={moved} />
    </>
  );
}

/** Own balance and audit log of a chosen day (account:view_own); each fee, reward and payout appears as it happens. */
function MyAccount({ live }: { live: boolean }) {
  const { day, today, isToday, setDay } = useChosenDay();
  const account = useQuery(MyAccountDocument, { day });
  useLive(
    MyAccountUpdatesDocument,
    {},
    ({ myAccountUpdated }) => account.update(({ myAccount }) => ({ myAccount: withMovement(myAccount, myAccountUpdated, day) })),
    live && account.error?.code !== 'FORBIDDEN',
  );
  if (account.error?.code === 'FORBIDDEN') return null;
  return (
    <section className="panel" aria-labelledby="my-account-title">
      <div className="section-head">
        <h2 id="my-account-title">My account</h2>
        <DayPicker label="Day" value={day} fallback={today} onChange={setDay} offerToday />
      </div>
      <QueryView query={account} loadingLabel="Loading your account…">
        {({ myAccount }) => (
          <>
            <p className="figure">
              <span className="figure-label">{isToday ? 'Balance' : 'Current balance'}</span>
              <Money cents={myAccount.balance} />
            </p>
            {!isToday && <CurrentBalanceNote day={day} />}
            {myAccount.balance < 0 && <p className="muted small">A negative balance carries over to the next day.</p>}
            <h3>Audit log, {formatDay(day)}</h3>
            <AuditLog transactions={myAccount.transactions} day={day} caption={`My audit log on ${formatDay(day)}`} />
          </>
        )}
      </QueryView>
    </section>
  );
}

/** Management earnings today and over the last 30 days (earnings:view). */
function Earnings({ version }: { version: number }) {
  const { today } = useBusinessClock();
  const earnings = useQuery(ManagementEarningsDocument, {});
  const byDay = useQuery(EarningsByDayDocument, { from: addDays(today, -29), to: today });
  useReloadOn(version, earnings);
  useReloadOn(version, byDay);
  if (earnings.error?.code === 'FORBIDDEN') return null;
  return (
    <section className="panel" aria-labelledby="earnings-title">
      <h2 id="earnings-title">Management earnings</h2>
      <QueryView query={earnings} loadingLabel="Loading today's earnings…">
        {({ managementEarnings }) => (
          <p className="figure">
            <span className="figure-label">Today</span>
            <Money cents={managementEarnings} />
          </p>
        )}
      </QueryView>
      <h3>Last 30 days</h3>
      <QueryView query={byDay} loadingLabel="Loading earnings by day…">
        {({ earningsByDay }) => <EarningsChart days={earningsByDay} />}
      </QueryView>
    </section>
  );
}

/** Every account (account:view_all); pick one to read its audit log. */
function Accounts({ version }: { version: number }) {
  const accounts = useQuery(AccountsDocument, {});
  const [selected, setSelected] = useState<string>();
  // Each click on "Audit log" brings the log it opens into view (below a long table, it would open unseen).
  const [reveal, setReveal] = useState(0);
  useReloadOn(version, accounts);
  if (accounts.error?.code === 'FORBIDDEN') return null;
  return (
    <section className="panel" aria-labelledby="accounts-title">
      <h2 id="accounts-title">All accounts</h2>
      <QueryView query={accounts} loadingLabel="Loading accounts…">
        {({ accounts: list }) => {
          if (list.length === 0) return <Empty>No accounts yet.</Empty>;
          const sorted = [...list].sort((a, b) => a.user.name.localeCompare(b.user.name));
          const negative = list.filter((account) => account.balance < 0).length;
          return (
            <>
              <p className="muted small">
                {plural(list.length, 'account')}, {negative} below zero.
              </p>
              <div className="table-scroll" role="region" aria-label="All accounts" tabIndex={0}>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Popug</th>
                      <th scope="col" className="num">
                        Balance
                      </th>
                      <th scope="col">
                        <span className="visually-hidden">Audit log</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {sorted.map((account) => (
                      <tr key={account.user.id} aria-selected={selected === account.user.id}>
                        <td>{account.user.name}</td>
                        <td className="num">
                          <Money cents={account.balance} />
                        </td>
                        <td>
                          <button
                            type="button"
                            className="link-button"
                            aria-label={`Audit log of ${account.user.name}`}
                            onClick={() => {
                              setSelected(account.user.id);
                              setReveal((value) => value + 1);
                            }}
                          >
                            Audit log
                          </button>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          );
        }}
      </QueryView>
      {selected && <AccountLog userId={selected} version={version} reveal={reveal} />}
    </section>
  );
}

interface AccountLogProps {
  userId: string;
  version: number;
  /** Goes up at each "Audit log" click: the log's heading is scrolled to and focused once it shows this user. */
  reveal: number;
}

function AccountLog({ userId, version, reveal }: AccountLogProps) {
  const { day, today, isToday, setDay } = useChosenDay();
  const account = useQuery(AccountDocument, { userId, day });
  useReloadOn(version, account);
  const heading = useRef<HTMLHeadingElement>(null);
  const revealed = useRef(0);
  const shownUserId = account.data?.account.user.id;
  useEffect(() => {
    if (reveal === revealed.current || shownUserId !== userId || !heading.current) return;
    revealed.current = reveal;
    heading.current.scrollIntoView({ block: 'start' });
    heading.current.focus({ preventScroll: true });
  }, [reveal, shownUserId, userId]);
  return (
    <div className="subpanel">
      <QueryView query={account} loadingLabel="Loading the audit log…">
        {({ account: { user, balance, transactions } }) => (
          <>
            <div className="section-head">
              <h3 ref={heading} tabIndex={-1}>
                {user.name}: {!isToday && 'current balance '}
                <Money cents={balance} />
              </h3>
              <DayPicker label="Day" value={day} fallback={today} onChange={setDay} offerToday />
            </div>
            {!isToday && <CurrentBalanceNote day={day} />}
            <AuditLog transactions={transactions} day={day} caption={`Audit log of ${user.name} on ${formatDay(day)}`} />
          </>
        )}
      </QueryView>
    </div>
  );
}

/** Beside a past (or future) day: the balance is today's, the audit log that day's. */
function CurrentBalanceNote({ day }: { day: string }) {
  return <p className="muted small">The balance is today&apos;s; the audit log below is of {formatDay(day)}.</p>;
}
