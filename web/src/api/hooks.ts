import { useCallback, useEffect, useRef, useState } from 'react';
import type { TypedDocumentString } from '../generated/graphql';
import { authorized } from './authorized';
import { onCatchUp } from './catch-up';
import { execute, toApiError, type ApiError } from './client';
import { subscribeLive } from './live';

export interface QueryState<TResult> {
  /** The last answer; kept while a reload runs so the page does not flicker. */
  data: TResult | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload(): void;
  /** Changes the answer on screen, as a live event says it changed (kept until the next reload). */
  update(change: (current: TResult) => TResult): void;
}

export interface QueryOptions {
  catchUp?: boolean;
  /** Not sent (yet), e.g. a read no first paint needs until the user reaches for it. */
  skip?: boolean;
}

/**
 * Runs a query as the signed-in user whenever its variables change, and again when the page
 * catches up (./catch-up.ts: a live stream reconnected, the tab came back) unless it was
 * sent after the moment caught up to.
 */
export function useQuery<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  options: QueryOptions = {},
): QueryState<TResult> {
  const read = useCallback((current: TVariables, signal: AbortSignal) => authorized(document, current, signal), [document]);
  return useRead(read, variables, options);
}

/**
 * `useQuery` for an answer made of several requests (../tracker/use-paged-list.ts reads a
 * list's pages one after the other): `read` runs whenever `variables` change, `read` itself
 * changes (keep it stable) or the page catches up.
 */
export function useRead<TResult, TVariables>(
  read: (variables: TVariables, signal: AbortSignal) => Promise<TResult>,
  variables: TVariables,
  { catchUp = true, skip = false }: QueryOptions = {},
): QueryState<TResult> {
  const [state, setState] = useState<{ data?: TResult; error?: ApiError; loading: boolean }>({ loading: true });
  const [generation, setGeneration] = useState(0);
  const key = JSON.stringify(variables);
  const variablesRef = useRef(variables);
  variablesRef.current = variables;

  const sentAt = useRef(0);
  const inFlight = useRef(false);
  /** A catch-up came while the answer was on its way: shown first, then read again. */
  const staleOnArrival = useRef(false);

  useEffect(() => {
    if (skip) return;
    const controller = new AbortController();
    sentAt.current = Date.now();
    inFlight.current = true;
    setState((current) => ({ ...current, loading: true }));
    const arrived = (next: { data?: TResult; error?: ApiError; loading: false }) => {
      if (controller.signal.aborted) return;
      inFlight.current = false;
      setState(next);
      if (!staleOnArrival.current) return;
      staleOnArrival.current = false;
      setGeneration((value) => value + 1);
    };
    read(variablesRef.current, controller.signal).then(
      (data) => arrived({ data, loading: false }),
      (error: unknown) => arrived({ error: toApiError(error), loading: false }),
    );
    return () => controller.abort();
  }, [read, key, generation, skip]);

  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  const update = useCallback((change: (current: TResult) => TResult) => {
    setState((current) => (current.data === undefined ? current : { ...current, data: change(current.data) }));
  }, []);

  useEffect(() => {
    if (!catchUp) return;
    return onCatchUp((since) => {
      if (sentAt.current >= since) return;
      // Not the answer on its way, which the page may be waiting for (a first paint): after it.
      if (inFlight.current) staleOnArrival.current = true;
      else reload();
    });
  }, [catchUp, reload]);

  return { data: state.data, error: state.error, loading: state.loading, reload, update };
}

/** Reloads `query` each time `version` goes up (0 is the first load's). */
export function useReloadOn(version: number, { reload }: Pick<QueryState<unknown>, 'reload'>): void {
  useEffect(() => {
    if (version > 0) reload();
  }, [version, reload]);
}

/**
 * A version that goes up a moment after `refreshSoon` is called, once however many calls
 * come meanwhile: for reads that a live event says are stale but cannot patch (a table
 * that another service computes, a copy that replication brings a little later).
 */
export function useRefreshSoon(): { version: number; refreshSoon(delayMs: number): void } {
  const [version, setVersion] = useState(0);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const refreshSoon = useCallback((delayMs: number) => {
    if (timer.current !== undefined) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      setVersion((value) => value + 1);
    }, delayMs);
  }, []);
  useEffect(() => () => clearTimeout(timer.current), []);
  return { version, refreshSoon };
}

/**
 * Calls `onEvent` with each event of a subscription while `enabled` (pass false when the
 * caller may not use it: ../access.tsx knows). The page's queries catch up whenever the
 * stream (re)connects (./live.ts).
 */
export function useLive<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  onEvent: (data: TResult) => void,
  enabled = true,
): void {
  const key = JSON.stringify(variables);
  const variablesRef = useRef(variables);
  variablesRef.current = variables;
  const onEventRef = useRef(onEvent);
  onEventRef.current = onEvent;

  useEffect(() => {
    if (!enabled) return;
    return subscribeLive(document, variablesRef.current, (data) => onEventRef.current(data));
  }, [document, key, enabled]);
}

export interface MutationState<TResult, TVariables> {
  /** Resolves with the answer, or with undefined after an error (then in `error`). */
  run(variables: TVariables): Promise<TResult | undefined>;
  running: boolean;
  error: ApiError | undefined;
  reset(): void;
}

/** A mutation as the signed-in user: if the session ends meanwhile, it waits for the sign-in dialog and runs then. */
export function useMutation<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>): MutationState<TResult, TVariables> {
  return useRunner(useCallback((variables: TVariables) => authorized(document, variables), [document]));
}

/** A mutation anyone may send (sign in, register, password reset): no token. */
export function useAnonymousMutation<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
): MutationState<TResult, TVariables> {
  return useRunner(useCallback((variables: TVariables) => execute(document, variables), [document]));
}

function useRunner<TResult, TVariables>(send: (variables: TVariables) => Promise<TResult>): MutationState<TResult, TVariables> {
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<ApiError>();

  const run = useCallback(
    async (variables: TVariables) => {
      setRunning(true);
      setError(undefined);
      try {
        return await send(variables);
      } catch (caught) {
        setError(toApiError(caught));
        return undefined;
      } finally {
        setRunning(false);
      }
    },
    [send],
  );
  const reset = useCallback(() => setError(undefined), []);
  return { run, running, error, reset };
}
