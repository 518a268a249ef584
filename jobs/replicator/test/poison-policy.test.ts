import { ConnectionException, DriverException } from '@mikro-orm/core';
import { PoisonEventError, type ChangeEvent } from '@popug/lib/replication/replica';
import { HandlerFailure } from '../apply';
import { failureKind, nextStep } from '../poison-policy';

/** An error as pg (and MikroORM after it) hands it over: a message and a SQLSTATE in `code`. */
const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });
const events = (count: number): ChangeEvent[] =>
  Array.from({ length: count }, (_, index) => ({
    version: String(index + 11),
    source: 'auth',
    type: 'user.changed',
    schemaVersion: 2,
    payload: {},
    occurredAt: new Date(0),
  }));

describe('failureKind reads codes, never message text', () => {
  test.each([
    ['08006', 'connection failure'],
    ['08001', 'could not connect'],
    ['40001', 'could not serialize access'],
    ['40P01', 'deadlock detected'],
    ['57P01', 'terminating connection due to administrator command'],
    ['57014', 'canceling statement due to statement timeout'],
    ['53300', 'too many connections'],
    // A grant the replicator's role lacks: the deployment's to fix, not the event's.
    ['42501', 'permission denied for table tasks'],
  ])('SQLSTATE %s (%s) is about the moment', (code, message) => {
    expect(failureKind(pgError(code, message))).toBe('transient');
  });

  test.each([
    ['22001', 'value too long for type character varying(64)'],
    ['22P02', 'invalid input syntax for type uuid'],
    ['23505', 'duplicate key value violates unique constraint'],
    ['42703', 'column does not exist'],
    ['P0001', 'raised by a trigger'],
  ])('SQLSTATE %s (%s) is about the data', (code, message) => {
    expect(failureKind(pgError(code, message))).toBe('data');
  });

  test('the code decides even when the message says the opposite', () => {
    expect(failureKind(pgError('22001', 'connection terminated, socket timeout'))).toBe('data');
    expect(failureKind(pgError('57P01', 'value too long'))).toBe('transient');
    // Thrown by a handler's own code: no code, so the same event fails the same way again.
    expect(failureKind(new Error('Connection terminated unexpectedly'))).toBe('data');
    expect(failureKind(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe('data');
    expect(failureKind('a string thrown')).toBe('data');
  });

  test("Node's socket codes and errors the driver raised without a SQLSTATE are about the moment", () => {
    expect(failureKind(pgError('ECONNRESET', 'read ECONNRESET'))).toBe('transient');
    expect(failureKind(pgError('ETIMEDOUT', 'timeout'))).toBe('transient');
    expect(failureKind(new DriverException(new Error('Client has encountered a connection error and is not queryable')))).toBe('transient');
    expect(failureKind(new ConnectionException(new Error('Connection terminated unexpectedly')))).toBe('transient');
  });
});

describe('nextStep', () => {
  const dataError = pgError('22001', 'value too long');

  test('a batch that fails for its data is halved', () => {
    expect(nextStep(new HandlerFailure(dataError, events(7)))).toEqual({ kind: 'bisect', size: 4 });
    expect(nextStep(new HandlerFailure(dataError, events(2)))).toEqual({ kind: 'bisect', size: 1 });
  });

  test('one event that fails for its data is the poison, named by its version and the reason', () => {
    const step = nextStep(new HandlerFailure(dataError, events(1)));
    expect(step.kind).toBe('poison');
    const { poison } = step as Extract<typeof step, { kind: 'poison' }>;
    expect(poison).toBeInstanceOf(PoisonEventError);
    expect(poison.version).toBe('11');
    expect(poison.message).toBe('event v11 cannot be applied: handler failed: value too long');
  });

  test('an invalid event the handler reports as poison is passed on as it is, whatever the batch size', () => {
    const invalid = new PoisonEventError('13', 'user.changed v2: active: required');
    expect(nextStep(new HandlerFailure(invalid, events(5)))).toEqual({ kind: 'poison', poison: invalid });
    expect(nextStep(invalid)).toEqual({ kind: 'poison', poison: invalid });
  });

  test('a failure of the moment ends the catch-up with the original error, at any batch size', () => {
    const shutdown = pgError('57P01', 'terminating connection due to administrator command');
    expect(nextStep(new HandlerFailure(shutdown, events(8)))).toEqual({ kind: 'give-up', error: shutdown });
    expect(nextStep(new HandlerFailure(shutdown, events(1)))).toEqual({ kind: 'give-up', error: shutdown });
  });

  test('a failure outside the handler (reading the log, the watermark) ends the catch-up', () => {
    const error = new Error('replica has no watermark row');
    expect(nextStep(error)).toEqual({ kind: 'give-up', error });
  });
});
