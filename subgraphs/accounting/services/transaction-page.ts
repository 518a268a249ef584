import { badInput } from '@popug/lib/errors';

/** The most rows one page of an audit log holds. */
export const MAX_PAGE_ROWS = 500;
/** A page's rows when `after` is given without `first`. */
export const DEFAULT_PAGE_ROWS = 100;

/**
 * Where a page of an audit log starts: after the row created at `createdMicros` (microseconds
 * since the epoch, PostgreSQL's own precision, which a JavaScript Date would round) with
 * `id`. Rows are ordered newest first by (created_at, id), which no later row can enter
 * between: a row booked now is newer than every cursor handed out before.
 */
export interface RowPosition {
  createdMicros: string;
  id: string;
}

/** One page of a day's log: `limit` rows after `after` (from the newest when absent). */
export interface TransactionPage {
  limit: number;
  after?: RowPosition;
}

const CURSOR = /^(\d{1,18}):(\d{1,18})$/;

/** A row's cursor: opaque to clients, its position to us. */
export function cursorOf(position: RowPosition): string {
  return Buffer.from(`${position.createdMicros}:${position.id}`).toString('base64url');
}

/**
 * The `first` and `after` arguments as a page; undefined when neither is given (the whole
 * day, as the contract's MyAccount and Account ask). BAD_USER_INPUT for a `first` outside
 * 1..MAX_PAGE_ROWS or an `after` that is not a cursor this service handed out.
 */
export function parseTransactionPage(first: number | null | undefined, after: string | null | undefined): TransactionPage | undefined {
  if ((first === null || first === undefined) && (after === null || after === undefined)) return undefined;
  const limit = first ?? DEFAULT_PAGE_ROWS;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_ROWS) throw badInput(`"first" must be a whole number from 1 to ${MAX_PAGE_ROWS}`, 'first');
  if (after === null || after === undefined) return { limit };
  const match = CURSOR.exec(Buffer.from(after, 'base64url').toString('latin1'));
  if (!match?.[1] || !match[2] || cursorOf({ createdMicros: match[1], id: match[2] }) !== after) {
    throw badInput('"after" must be the cursor of a row of this audit log', 'after');
  }
  return { limit, after: { createdMicros: match[1], id: match[2] } };
}
