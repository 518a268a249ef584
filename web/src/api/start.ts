import { StartDocument, type StartQuery } from '../generated/graphql';
import { authorized } from './authorized';
import { updateUser } from './session-store';

/**
 * The Start document (../graphql/start.graphql): who the caller is and what they may do,
 * asked once as a session starts. The session's start asks it with its first token (one
 * request instead of `me` and then the access); the access provider finds the answer here
 * and asks again only for a user or role it was not asked for (a sign-in, a role change).
 */
export type StartAnswer = StartQuery;

/** Its name in the trusted-documents manifest, for the refresh that runs it (./browser-session.ts). */
export const START_OPERATION = 'Start';

/**
 * The Start answer the refresh brought (`then`), if it is one: data with the caller, and no
 * refused token (a field another subgraph could not answer is null, as with `partial`).
 */
export function startFrom(then: unknown): StartAnswer | null {
  if (typeof then !== 'object' || then === null) return null;
  const { data, errors } = then as { data?: { me?: unknown } | null; errors?: { extensions?: { code?: unknown } }[] };
  if (!data?.me || errors?.some((error) => error.extensions?.code === 'UNAUTHENTICATED')) return null;
  return data as StartAnswer;
}

let last: { identity: string; answer: StartAnswer } | null = null;

export const identityOf = (user: { id: string; role: string }) => `${user.id}:${user.role}`;

export function startAnswered(answer: StartAnswer): void {
  last = { identity: identityOf(answer.me), answer };
}

/** The answer asked for this user and role, if the session's start asked it. */
export function startAnswerFor(identity: string): StartAnswer | null {
  return last?.identity === identity ? last.answer : null;
}

/** Asks the Start document as the signed-in user, and keeps the answer. */
export async function askStart(): Promise<StartAnswer> {
  const answer = await authorized(StartDocument, {}, undefined, { partial: true });
  startAnswered(answer);
  updateUser(answer.me);
  return answer;
}
