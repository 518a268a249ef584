import { useCallback, useEffect, useRef, useState } from 'react';
import type { TypedDocumentString } from '../generated/graphql';
import { authorized } from './authorized';
import { execute, toApiError, type ApiError } from './client';

export interface QueryState<TResult> {
  /** The last answer; kept while a reload runs so the page does not flicker. */
  data: TResult | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload(): void;
}

/** Runs a query as the signed-in user whenever its variables change. */
export function useQuery<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
): QueryState<TResult> {
  const [state, setState] = useState<{ data?: TResult; error?: ApiError; loading: boolean }>({ loading: true });
  const [generation, setGeneration] = useState(0);
  const key = JSON.stringify(variables);
  const variablesRef = useRef(variables);
  variablesRef.current = variables;

  useEffect(() => {
    const controller = new AbortController();
    setState((current) => ({ ...current, loading: true }));
    authorized(document, variablesRef.current, controller.signal).then(
      (data) => !controller.signal.aborted && setState({ data, loading: false }),
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setState({ error: toApiError(error), loading: false });
      },
    );
    return () => controller.abort();
  }, [document, key, generation]);

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
