import { DriverException } from '@mikro-orm/core';
import { PoisonEventError } from '@popug/lib/replication/replica';
import { HandlerFailure } from './apply';

/**
 * Whether a failure says something about the data (it repeats on every try) or about the
 * moment (the next pass may well succeed).
 */
export type FailureKind = 'data' | 'transient';

const SQLSTATE = /^[0-9A-Z]{5}$/;
/**
 * SQLSTATE classes that repeat on every try: data exceptions (22), integrity violations
 * (23), syntax and access rules (42) and errors raised by PL/pgSQL (P0). Every other class
 * is about the moment: 08 connection, 40 (40001 serialization, 40P01 deadlock), 53 out of
 * resources, 57 operator intervention (57P01 admin shutdown, 57014 cancelled), 58 system.
 */
const DATA_CLASSES = new Set(['22', '23', '42', 'P0']);
/**
 * Of class 42, insufficient_privilege is about the deployment, not the event: the
 * replicator's role lacks a grant (jobs/replicator/grants.ts) for whatever it applies. The
 * replica fails each pass and its incident names the denial, instead of the first event of
 * the batch being called a poison; the next migrate step's grants end it.
 */
const INSUFFICIENT_PRIVILEGE = '42501';

/**
 * Classifies by code alone, never by message text. PostgreSQL's answers carry a SQLSTATE;
 * a socket error carries Node's code (ECONNRESET, ETIMEDOUT); an error the driver raised
 * without either (a connection cut mid-query) is about the moment too. What remains was
 * thrown by the handler's own code, which does the same again on the same event.
 */
export function failureKind(error: unknown): FailureKind {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  if (typeof code === 'string' && SQLSTATE.test(code)) return DATA_CLASSES.has(code.slice(0, 2)) && code !== INSUFFICIENT_PRIVILEGE ? 'data' : 'transient';
  if (code !== undefined) return 'transient';
  return error instanceof DriverException ? 'transient' : 'data';
}

/** What the catch-up does after a batch failed. */
export type NextStep =
  /** Apply a smaller batch from the same place, to find the one event that fails. */
  | { kind: 'bisect'; size: number }
  /** Apply everything before this event; the event and all after it wait. */
  | { kind: 'poison'; poison: PoisonEventError }
  /** Stop here; the next pass tries again. */
  | { kind: 'give-up'; error: unknown };

/**
 * A handler that fails on a batch for reasons of data has one event in it that it cannot
 * apply: the batch is halved until that event is alone, so the poison is named by its
 * version rather than by its batch. Nothing is ever skipped: a poison only stops its
 * replica, and every pass tries it again, so a fixed handler resumes on its own.
 */
export function nextStep(error: unknown): NextStep {
  if (error instanceof PoisonEventError) return { kind: 'poison', poison: error };
  if (!(error instanceof HandlerFailure)) return { kind: 'give-up', error };
  const { cause, events } = error;
  if (cause instanceof PoisonEventError) return { kind: 'poison', poison: cause };
  if (failureKind(cause) === 'transient') return { kind: 'give-up', error: cause };
  const [only] = events;
  if (events.length === 1 && only) return { kind: 'poison', poison: new PoisonEventError(only.version, `handler failed: ${messageOf(cause)}`) };
  return { kind: 'bisect', size: Math.ceil(events.length / 2) };
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
