import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';
import { EXPECTED_CODES } from './errors';
import type { Logger } from './logger';

/** Codes that describe the client's request, not our failure: they reach the client as they are. */
const CLIENT_CODES = new Set([
  ...EXPECTED_CODES,
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'PERSISTED_QUERY_NOT_IN_LIST',
  'PERSISTED_QUERY_HASH_MISMATCH',
  'OPERATION_RESOLUTION_FAILURE',
  // Why a live subscription ended (docs/architecture.md "Subscriptions"): the client decides what to do next by these.
  'SESSION_EXPIRED',
  'SESSION_ENDED',
  'ACCOUNT_DEACTIVATED',
  'SUBSCRIPTION_INTERRUPTED',
]);

export const INTERNAL_MESSAGE = 'Internal server error';

export function isClientError(formatted: GraphQLFormattedError): boolean {
  return CLIENT_CODES.has(String(formatted.extensions?.code));
}

/**
 * What a client error may carry: its code, the argument at fault, when to retry. Anything
 * else a library puts in extensions (a subgraph's `serviceName`, a `response` with URLs
 * and bodies, a stack trace) stays inside.
 */
const CLIENT_EXTENSIONS = ['code', 'field', 'retryAfter'] as const;

/** Masks anything unexpected; the original goes to the log by `errorLoggingPlugin`. */
export function maskError(formatted: GraphQLFormattedError): GraphQLFormattedError {
  if (isClientError(formatted)) {
    const extensions: Record<string, unknown> = {};
    for (const key of CLIENT_EXTENSIONS) {
      if (formatted.extensions?.[key] !== undefined) extensions[key] = formatted.extensions[key];
    }
    return { ...formatted, extensions };
  }
  return { message: INTERNAL_MESSAGE, locations: formatted.locations, path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}

export interface RequestScoped extends BaseContext {
  requestId: string;
}

/** Logs every unexpected error with the request id, and gives the id to the client. */
export function errorLoggingPlugin<TContext extends RequestScoped>(logger: Logger): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue, operationName }) {
          for (const error of errors) {
            const code = String(error.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
            if (CLIENT_CODES.has(code)) continue;
            logger.error({ err: error.originalError ?? error, requestId: contextValue.requestId, operationName, path: error.path }, error.message);
          }
        },
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== 'single') return;
          const errors = response.body.singleResult.errors;
          if (!errors) return;
          response.body.singleResult.errors = errors.map((error) =>
            isClientError(error) ? error : { ...error, extensions: { ...error.extensions, requestId: contextValue.requestId } },
          );
        },
      };
    },
  };
}
