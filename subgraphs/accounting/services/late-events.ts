import type { EntityManager } from '@mikro-orm/postgresql';
import { executeSql } from '@popug/lib/db/sql';
import type { Logger } from '@popug/lib/logger';
import { enqueueMailToEach, type MailQueue, type MailRecipient } from '@popug/lib/mail';
import { centsFrom } from '@popug/lib/money';

/** How many unreported late rows one report names at most; the rest go into the next. */
const LATE_REPORT_LIMIT = 1_000;

interface LateRow {
  id: string;
  user_id: string;
  kind: string;
  amount: string;
  business_day: string;
  late_from: string;
  description: string;
}

/**
 * Reports the audit-log rows booked late (docs/architecture.md, Business days: an event
 * dated in a day already closed is booked on the first open day, `late_from` keeping its
 * own day) that no report has named yet, like an outbox: an error log line and one mail
 * per admin, keyed by the first row's id so a crash between the mail and the mark sends
 * no second mail; then the rows are marked `late_reported_at`. The payout worker's tick
 * runs it. Answers how many rows it reported.
 */
export async function reportLateEvents(
  em: EntityManager,
  mailQueue: MailQueue,
  admins: () => Promise<MailRecipient[]>,
  logger: Logger,
): Promise<number> {
  const rows = await executeSql<LateRow>(
    em,
    `select id::text as id, user_id::text as user_id, kind, amount::text as amount, description,
            to_char(business_day, 'YYYY-MM-DD') as business_day, to_char(late_from, 'YYYY-MM-DD') as late_from
       from transactions where late_from is not null and late_reported_at is null
      order by id limit ?`,
    [LATE_REPORT_LIMIT],
  );
  const [first] = rows;
  if (first === undefined) return 0;
  const days = [...new Set(rows.map((row) => row.late_from))].sort();
  logger.error({ rows: rows.length, lateFrom: days, bookedOn: [...new Set(rows.map((row) => row.business_day))] }, 'events dated in closed business days were booked late');
  const lines = rows.map(
    (row) => `- ${row.kind} ${centsFrom(row.amount) / 100} for user ${row.user_id}: dated ${row.late_from} (closed), booked on ${row.business_day} (${row.description})`,
  );
  const text = [
    `${rows.length} audit-log row(s) arrived dated in business days already closed (${days.join(', ')}). They were booked on the first open day and are paid with it; nothing was dropped and no day was reopened.`,
    'A source clock that went back, or a source restored from a backup, dates events this way: check the clocks of auth, tracker and accounting.',
    lines.join('\n'),
  ].join('\n\n');
  await enqueueMailToEach(mailQueue, await admins(), { subject: `Events dated in closed business day ${days[0]} were booked late`, text }, `late-events:${first.id}`);
  await executeSql(em, 'update transactions set late_reported_at = now() where id = any(?::bigint[])', [`{${rows.map((row) => row.id).join(',')}}`]);
  return rows.length;
}
