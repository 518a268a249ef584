import type { TypedDocumentString } from '../generated/graphql';
import { execute, isUnauthenticated, type ExecuteOptions } from './client';
import { accessToken, endAfterRefusal, renewAfterRefusal } from './session-store';

/**
 * Runs an operation as the signed-in user. A refused token (expired while the laptop slept,
 * or its session ended) is renewed once from the refresh cookie and the call tried again;
 * when the renewed token is refused too, or the refresh is, the session has ended: the
 * sign-in dialog opens over the page and the call waits for it, then runs. So a form's
 * submit survives the end of a session, with what the user typed.
 */
export async function authorized<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  signal?: AbortSignal,
  { partial }: Pick<ExecuteOptions, 'partial'> = {},
): Promise<TResult> {
  const first = await accessToken();
  try {
    return await execute(document, variables, { token: first, signal, partial });
  } catch (error) {
    if (!isUnauthenticated(error)) throw error;
  }
  await renewAfterRefusal(first);
  const renewed = await accessToken();
  try {
    return await execute(document, variables, { token: renewed, signal, partial });
  } catch (error) {
    if (!isUnauthenticated(error)) throw error;
    endAfterRefusal(renewed);
  }
  return execute(document, variables, { token: await accessToken(), signal, partial });
}
