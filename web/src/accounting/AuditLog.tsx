import { Money } from '../components/Money';
import { Empty } from '../components/status';
import { useBusinessClock } from '../business-clock';
import { formatDay } from '../format';
import type { AccountFieldsFragment, TransactionKind } from '../generated/graphql';

const KIND_LABELS: Record<TransactionKind, string> = {
  ASSIGN_FEE: 'Assignment fee',
  COMPLETION_REWARD: 'Reward',
  PAYOUT: 'Payout',
};

/** One business day of an account's audit log, newest first. */
export function AuditLog({ transactions, day, caption }: { transactions: AccountFieldsFragment['transactions']; day: string; caption: string }) {
  const { formatTime } = useBusinessClock();
  if (transactions.length === 0) return <Empty>No money moved on {formatDay(day)}.</Empty>;
  const total = transactions.reduce((sum, row) => sum + row.amount, 0);
  return (
    <div className="table-scroll" role="region" aria-label={caption} tabIndex={0}>
      <table className="stack">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">What</th>
            <th scope="col">Description</th>
            <th scope="col" className="num">
              Amount
            </th>
          </tr>
        </thead>
        <tbody>
          {transactions.map((row) => (
            <tr key={row.id}>
              <td className="nowrap" data-label="Time">{formatTime(row.createdAt)}</td>
              <td data-label="What">
                <span className={`kind kind-${row.kind.toLowerCase()}`}>{KIND_LABELS[row.kind]}</span>
              </td>
              <td data-label="Description">{row.description}</td>
              <td className="num" data-label="Amount">
                <Money cents={row.amount} signed />
              </td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row" colSpan={3}>
              Net on {formatDay(day)}
            </th>
            <td className="num">
              <Money cents={total} signed />
            </td>
          </tr>
        </tfoot>
      </table>
    </div>
  );
}
