import { useCallback, useRef, useState } from 'react';
import { authorized } from '../api/authorized';
import { toApiError, type ApiError } from '../api/client';
import { useRead, type QueryState } from '../api/hooks';
import type { TaskFieldsFragment, TypedDocumentString } from '../generated/graphql';

/** How many tasks a list shows first, and how many more each "Show more" adds. */
export const PAGE = 50;
/** The most one read may ask for: the server's page limit (`first` is 1..500). */
const READ_MAX = 500;

type Task = TaskFieldsFragment;

interface PageVariables {
  first: number;
  /** The id of the last task of the page before; null for the first page. */
  after: string | null;
}

/** Where a list's tasks are in its query's answer (the rest are its counts). Keep it stable: a module constant. */
export interface ListShape<TResult> {
  tasksOf(answer: TResult): readonly Task[];
  withTasks(answer: TResult, tasks: Task[]): TResult;
}

export interface PagedList<TResult> extends QueryState<TResult> {
  /** Reads the PAGE tasks after the last one shown and appends them. */
  showMore(): void;
  loadingMore: boolean;
  /** Why the last "Show more" failed (the list stays as it was). */
  moreError: ApiError | undefined;
}

/**
 * A task list read a page at a time with the server's keyset pages: the first PAGE tasks of
 * `view` (another view starts there again), and each `showMore` one read of the next PAGE
 * after the last task shown, appended. There is no limit to how far it goes.
 *
 * Reading the list again (a catch-up when the live stream reconnects, `reload`) reads as many
 * as are shown, from the first, walking the pages with `after` (each read ≤ READ_MAX). Re-reading
 * only the first page and keeping the later ones would be wrong: a task created or moved while
 * the stream was down shifts every page after it, so a kept page would show a task that moved
 * into the first page twice, and lose the one pushed out of the first page into the gap.
 */
export function usePagedList<TResult, TView extends object>(
  document: TypedDocumentString<TResult, NoInfer<TView> & PageVariables>,
  view: TView,
  shape: ListShape<TResult>,
): PagedList<TResult> {
  /** The view the last whole read was for: the same view again reads as many as are shown. */
  const readFor = useRef<string>(undefined);
  /** How many tasks the list shows now. */
  const shown = useRef(0);
  /** While a page is on its way: how many tasks the list will show with it. */
  const asked = useRef(0);
  /**
   * Whole reads so far. A page asked for before the latest one is dropped: that read replaced
   * the list it would follow, and read the page too (`asked`), or it is of another view.
   */
  const wholeReads = useRef(0);

  const read = useCallback(
    async (current: TView, signal: AbortSignal) => {
      wholeReads.current += 1;
      const key = JSON.stringify(current);
      const again = readFor.current === key;
      readFor.current = key;
      if (!again) asked.current = 0;
      let count = again ? Math.max(PAGE, shown.current, asked.current) : PAGE;
      let answer: TResult = await readPages(document, current, count, null, shape, signal);
      // A page shown while this read was on its way (asked for after it started) would vanish
      // under its answer: read on until the answer covers what the list shows by now.
      for (;;) {
        const tasks = shape.tasksOf(answer);
        const last = tasks.at(-1);
        const want = Math.max(shown.current, asked.current);
        if (!again || !last || tasks.length < count || tasks.length >= want) return answer;
        const rest = await readPages(document, current, want - tasks.length, last.id, shape, signal);
        answer = shape.withTasks(rest, appendNew(tasks, shape.tasksOf(rest)));
        count = want;
      }
    },
    [document, shape],
  );
  const list = useRead(read, view);
  shown.current = list.data ? shape.tasksOf(list.data).length : 0;

  /** `readsBefore`: whole reads when the page was asked for; after another one, its error is old news. */
  const [more, setMore] = useState<{ loading: boolean; error?: ApiError; readsBefore?: number }>({ loading: false });
  const { data, update } = list;
  const showMore = useCallback(async () => {
    const tasks = data ? shape.tasksOf(data) : [];
    const last = tasks.at(-1);
    if (!last) return;
    const readsBefore = wholeReads.current;
    asked.current = tasks.length + PAGE;
    setMore({ loading: true });
    let error: ApiError | undefined;
    // `asked` stays once the page is shown: a whole read on its way reads on to cover it.
    try {
      const page = await authorized(document, { ...view, first: PAGE, after: last.id });
      if (wholeReads.current === readsBefore) {
        update((current) => {
          const tasks = appendNew(shape.tasksOf(current), shape.tasksOf(page));
          asked.current = tasks.length;
          return shape.withTasks(current, tasks);
        });
      } else asked.current = 0;
    } catch (caught) {
      asked.current = 0;
      if (wholeReads.current === readsBefore) error = toApiError(caught);
    }
    setMore({ loading: false, error, readsBefore });
  }, [data, document, shape, update, view]);

  const moreError = more.readsBefore === wholeReads.current ? more.error : undefined;
  return { ...list, showMore, loadingMore: more.loading, moreError };
}

/**
 * The first `count` tasks after `after` (null: from the start), a read of at most READ_MAX
 * at a time; the counts are the last answer's. A page shorter than asked is the list's end.
 */
async function readPages<TResult, TView extends object>(
  document: TypedDocumentString<TResult, TView & PageVariables>,
  view: TView,
  count: number,
  after: string | null,
  shape: ListShape<TResult>,
  signal: AbortSignal,
): Promise<TResult> {
  const first = Math.min(count, READ_MAX);
  const answer = await authorized(document, { ...view, first, after }, signal);
  const page = shape.tasksOf(answer);
  const last = page.at(-1);
  if (count <= first || page.length < first || !last) return answer;
  const rest = await readPages(document, view, count - first, last.id, shape, signal);
  return shape.withTasks(rest, appendNew(page, shape.tasksOf(rest)));
}

/**
 * `tasks` and then those of `page` not among them. A task has one place in an order, but it
 * may change between two reads (one completed moves in the "Open first" order) and be on both:
 * the first place stays, and the live event of that change puts it right.
 */
function appendNew(tasks: readonly Task[], page: readonly Task[]): Task[] {
  const held = new Set(tasks.map((task) => task.id));
  return [...tasks, ...page.filter((task) => !held.has(task.id))];
}
