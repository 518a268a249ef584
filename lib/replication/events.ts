import type { ZodType } from 'zod';
import { EVENT_SCHEMAS, UpgradeRefusedError, type EventPayload, type EventType, type UpgradeContext } from '../../schema/events';

export { EVENT_SCHEMAS, EVENT_TYPES, type EventPayload, type EventType, type UpgradeContext } from '../../schema/events';

/** An event that fails its schema or has an unknown type or version: it must not be skipped silently. */
export class InvalidEventError extends Error {
  constructor(
    readonly type: string,
    readonly schemaVersion: number,
    reason: string,
  ) {
    super(`${type} v${schemaVersion}: ${reason}`);
  }
}

interface EventDefinition {
  latest: number;
  versions: Record<number, ZodType>;
  upgrade?: Record<number, (payload: never, context: UpgradeContext) => unknown>;
}

function definitionOf(type: string): EventDefinition {
  const definition = (EVENT_SCHEMAS as Record<string, EventDefinition | undefined>)[type];
  if (!definition) throw new InvalidEventError(type, 0, 'unknown event type');
  return definition;
}

export function latestVersion(type: EventType): number {
  return definitionOf(type).latest;
}

/**
 * Checks a payload against its own version's schema, then reads it as the latest version;
 * `context` is what an upgrade needs from the log (a user.changed v1 event's revision).
 */
export function readEvent<T extends EventType>(type: T, schemaVersion: number, payload: unknown, context: UpgradeContext = {}): EventPayload<T> {
  const definition = definitionOf(type);
  const schema = definition.versions[schemaVersion];
  if (!schema) throw new InvalidEventError(type, schemaVersion, 'unknown schema version');
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidEventError(type, schemaVersion, `${issue?.path.join('.') || 'payload'}: ${issue?.message ?? 'invalid'}`);
  }
  let current: unknown = parsed.data;
  for (let version = schemaVersion; version < definition.latest; version++) {
    const upgrade = definition.upgrade?.[version] as ((payload: unknown, context: UpgradeContext) => unknown) | undefined;
    if (!upgrade) throw new InvalidEventError(type, version, `no upgrade to v${version + 1}`);
    try {
      current = upgrade(current, context);
    } catch (error) {
      if (error instanceof UpgradeRefusedError) throw new InvalidEventError(type, version, error.message);
      throw error;
    }
  }
  return current as EventPayload<T>;
}

/** Validates a payload about to be written; writers always write the latest version. */
export function checkNewEvent<T extends EventType>(type: T, payload: EventPayload<T>): EventPayload<T> {
  return readEvent(type, latestVersion(type), payload);
}
