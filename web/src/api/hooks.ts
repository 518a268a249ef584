import { useCallback, useEffect, useRef, useState } from 'react';
import type { TypedDocumentString } from '../generated/graphql';
import { useSession } from '../session-context';
import { execute, toApiError, type ApiError } from './client';

export interface QueryState<TResult> {
  /** The last answer; kept while a reload runs so the page does not flicker. */
  data: TResult | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload(): void;
}

/** Runs a query whenever its variables (or the signed-in user) change. */
export function useQuery<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
): QueryState<TResult> {
  const { session } = useSession();
  const token = session?.token ?? null;
  const [state, setState] = useState<{ data?: TResult; error?: ApiError; loading: boolean }>({ loading: true });
  const [generation, setGeneration] = useState(0);
  const key = JSON.stringify(variables);
  const variablesRef = useRef(variables);
  variablesRef.current = variables;

  useEffect(() => {
    const controller = new AbortController();
    setState((current) => ({ ...current, loading: true }));
    execute(document, variablesRef.current, { token, signal: controller.signal }).then(
      (data) => setState({ data, loading: false }),
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setState({ error: toApiError(error), loading: false });
      },
    );
    return () => controller.abort();
  }, [document, key, token, generation]);

  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export interface MutationState<TResult, TVariables> {
  /** Resolves with the answer, or with undefined after an error (then in `error`). */
  run(variables: TVariables): Promise<TResult | undefined>;
  running: boolean;
  error: ApiError | undefined;
  reset(): void;
}

export function useMutation<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>): MutationState<TResult, TVariables> {
  const { session } = useSession();
  const token = session?.token ?? null;
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<ApiError>();

  const run = useCallback(
    async (variables: TVariables) => {
      setRunning(true);
      setError(undefined);
      try {
        return await execute(document, variables, { token });
      } catch (caught) {
        setError(toApiError(caught));
        return undefined;
      } finally {
        setRunning(false);
      }
    },
    [document, token],
  );
  const reset = useCallback(() => setError(undefined), []);
  return { run, running, error, reset };
}

