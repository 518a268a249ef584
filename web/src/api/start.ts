import { StartDocument, type StartQuery } from '../generated/graphql';
import { authorized } from './authorized';
import { updateUser } from './session-store';

/**
 * The Start document (../graphql/start.graphql): who the caller is, what they may do in each
 * subgraph and the business clock, asked once as a session starts. A page load asks it with
 * the session refresh itself (./session-store.ts: one request instead of three); the access
 * provider (../access.tsx) asks it again only for a user or role it was not asked for (a
 * sign-in, a role change). Every part of the app that needs it at start reads it here.
 */
export type StartAnswer = StartQuery;

export interface HeldStart {
  /** `userId:role` of the caller it answered for. */
  identity: string;
  answer: StartAnswer;
  /** This browser's clock when it came (the business clock's offset is worked out from it). */
  receivedAt: number;
}

/** Its name in the trusted-documents manifest, for the refresh that runs it (./browser-session.ts). */
export const START_OPERATION = 'Start';

let held: HeldStart | null = null;
const listeners = new Set<() => void>();

export const identityOf = (user: { id: string; role: string }) => `${user.id}:${user.role}`;

export function startAnswered(answer: StartAnswer): void {
  held = { identity: identityOf(answer.me), answer, receivedAt: Date.now() };
  for (const listener of listeners) listener();
}

/** The answer asked for this user and role, if any was. */
export const heldStart = (identity: string | null): HeldStart | null => (identity !== null && held?.identity === identity ? held : null);

export function onStartAnswered(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

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

/** Asks the Start document as the signed-in user, and holds the answer. */
export async function askStart(): Promise<void> {
  const answer = await authorized(StartDocument, {}, undefined, { partial: true });
  startAnswered(answer);
  updateUser(answer.me);
}
