import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  GraphQLError,
  getOperationAST,
  parse,
  specifiedRules,
  subscribe,
  validate,
  type ExecutionArgs,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type ParseOptions,
  type ValidationRule,
} from 'graphql';
import { CloseCode, handleProtocols, makeServer, type ConnectionInitMessage, type Server, type SubscribePayload } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { findBadTextArgument } from '../text-input';
import { INTERNAL_MESSAGE, isClientError, maskError } from '../graphql-errors';
import { IDENTITY_HEADER, type IdentityVerifier } from '../identity';
import type { Logger } from '../logger';
import { REQUEST_ID_HEADER } from '../tracing/request-id';
import type { SubgraphContext } from './context';

/**
 * GraphQL over WebSocket (graphql-ws, subprotocol graphql-transport-ws) at a subgraph's
 * /graphql, on its public port: how the gateway subscribes (docs/architecture.md
 * "Subscriptions"). One socket carries every subscription of one gateway process.
 *
 * - `connection_init` carries `{ statement, requestId }`: a gateway statement for this
 *   subgraph (the anonymous one will do) and its request id; anything else closes 4403.
 * - Each `subscribe` carries `extensions: { statement, requestId }`: the caller's statement
 *   for this subgraph and this subscription's request id, verified and turned into a context
 *   by the same `buildContext` as an HTTP request's headers.
 * - The document passes what an HTTP operation passes: the token limit while parsing,
 *   graphql's rules and the query limits while validating, the text-input rules on its
 *   variables. Only subscriptions: queries and mutations stay on HTTP.
 * - Errors leave masked as Apollo's formatError masks them; unexpected ones are logged with
 *   the subscription's request id.
 */
export interface SubscriptionServerOptions {
  schema: GraphQLSchema;
  identities: IdentityVerifier;
  /** The context of one subscription, from what would be its HTTP headers. */
  context: (headers: IncomingHttpHeaders) => Promise<SubgraphContext>;
  validationRules: readonly ValidationRule[];
  parseOptions: ParseOptions;
  logger: Logger;
  /** Field suggestions ("Did you mean …") are hidden in production, as over HTTP. */
  production: boolean;
  /** A ping this often; a peer that has not answered the previous one is cut. */
  keepAliveMs?: number;
}

export interface SubscriptionServer {
  /** The public server's `upgrade` handler. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** SIGTERM: every socket closed with 1001 "going away" (the gateway subscribes elsewhere), no new one taken. */
  close(): Promise<void>;
}

const PATH = '/graphql';
const DEFAULT_KEEP_ALIVE_MS = 15_000;
/** How long sockets get to close after 1001 before they are cut. */
const CLOSE_WAIT_MS = 2_000;
/** The largest message taken: a subscribe with its statement and variables is a few KiB. */
const MAX_PAYLOAD_BYTES = 256 * 1024;
const STATEMENT_MAX_LENGTH = 4096;

type ConnectionParams = ConnectionInitMessage['payload'];
type Extra = { socket: WebSocket; request: IncomingMessage };

/** The statement and request id a message carries, when both are strings of a sane length. */
function signedBy(source: unknown): { statement: string; requestId: string } | undefined {
  if (typeof source !== 'object' || source === null) return undefined;
  const { statement, requestId } = source as Record<string, unknown>;
  if (typeof statement !== 'string' || typeof requestId !== 'string') return undefined;
  if (statement.length > STATEMENT_MAX_LENGTH || requestId.length > STATEMENT_MAX_LENGTH) return undefined;
  return { statement, requestId };
}

const refusal = (code: string, message: string) => new GraphQLError(message, { extensions: { code } });

/** The execution arguments of a verified, admitted subscription, or why not. */
async function admit(options: SubscriptionServerOptions, rules: readonly ValidationRule[], payload: SubscribePayload): Promise<ExecutionArgs | GraphQLError[]> {
  const { schema } = options;
  const signed = signedBy(payload.extensions);
  if (!signed) return [refusal('UNAUTHENTICATED', 'This service answers only the gateway')];
  let contextValue: SubgraphContext;
  try {
    contextValue = await options.context({ [IDENTITY_HEADER]: signed.statement, [REQUEST_ID_HEADER]: signed.requestId });
  } catch (error) {
    if (error instanceof GraphQLError) return [refusal(String(error.extensions.code ?? 'UNAUTHENTICATED'), error.message)];
    // The permissions could not be read (the database is away): our failure, masked and logged.
    return [new GraphQLError(INTERNAL_MESSAGE, { originalError: error as Error })];
  }
  let document;
  try {
    document = parse(payload.query, options.parseOptions);
  } catch (error) {
    return [refusal('GRAPHQL_PARSE_FAILED', (error as Error).message)];
  }
  const invalid = validate(schema, document, rules);
  if (invalid.length > 0) return invalid.map((error) => validationFailure(error, options.production));
  const operation = getOperationAST(document, payload.operationName);
  if (!operation) return [refusal('BAD_REQUEST', 'No operation of that name in the document')];
  if (operation.operation !== 'subscription') return [refusal('BAD_REQUEST', `Only subscriptions are taken here; send a ${operation.operation} over HTTP`)];
  const variableValues = payload.variables ?? {};
  const badText = findBadTextArgument(schema, document, variableValues);
  if (badText) return [badText];
  return { schema, document, variableValues, operationName: payload.operationName, contextValue };
}

/** A validation error with Apollo's code; in production without graphql's "Did you mean …" (it would show the schema). */
function validationFailure(error: GraphQLError, production: boolean): GraphQLError {
  const message = production ? error.message.replace(/ ?Did you mean .+\?$/, '') : error.message;
  return new GraphQLError(message, { nodes: error.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
}

/** Masked for the gateway; what was not the client's doing is logged with the request id. */
function format(logger: Logger, errors: readonly GraphQLError[], requestId: string | undefined): GraphQLFormattedError[] {
  return errors.map((error) => {
    const formatted = error.toJSON();
    if (!isClientError(formatted)) logger.error({ err: error.originalError ?? error, requestId, path: error.path }, error.message);
    return maskError(formatted);
  });
}

/** graphql-ws's server over our statements, rules and error masking. */
function graphqlWsServer(options: SubscriptionServerOptions): Server<Extra> {
  const rules = [...specifiedRules, ...options.validationRules];
  return makeServer<ConnectionParams, Extra>({
    schema: options.schema,
    onConnect: (ctx) => {
      const signed = signedBy(ctx.connectionParams);
      if (!signed) return false;
      try {
        options.identities.verify(signed.statement, signed.requestId);
        return true;
      } catch {
        return false;
      }
    },
    onSubscribe: (_ctx, _id, payload) => admit(options, rules, payload),
    subscribe: (args) => subscribe(args),
    onNext: (_ctx, _id, _payload, args, result: ExecutionResult): FormattedExecutionResult => {
      if (!result.errors) return { data: result.data };
      return { data: result.data, errors: format(options.logger, result.errors, (args.contextValue as SubgraphContext).requestId) };
    },
    onError: (_ctx, _id, payload, errors) => format(options.logger, errors, signedBy(payload.extensions)?.requestId),
  });
}

/** One accepted socket served by graphql-ws: its errors handled, pinged, cut when a ping goes unanswered. */
function serveSocket(server: Server<Extra>, socket: WebSocket, request: IncomingMessage, logger: Logger, keepAliveMs: number): void {
  socket.on('error', (error) => {
    logger.warn({ err: error }, 'subscription socket failed');
    socket.terminate();
  });
  let answered = true;
  socket.on('pong', () => (answered = true));
  const keepAlive = setInterval(() => {
    if (!answered) return socket.terminate();
    answered = false;
    if (socket.readyState === socket.OPEN) socket.ping();
  }, keepAliveMs);
  const closed = server.opened(
    {
      protocol: socket.protocol,
      // A send to a socket closed meanwhile is no failure: its subscriptions are being ended.
      send: (data) => new Promise<void>((resolve, reject) => socket.send(data, (error) => (error && socket.readyState === socket.OPEN ? reject(error) : resolve()))),
      close: (code, reason) => socket.close(code, reason),
      onMessage: (handle) =>
        socket.on('message', (data) => {
          handle(String(data)).catch((error: unknown) => {
            logger.error({ err: error }, 'subscription message failed');
            socket.close(CloseCode.InternalServerError, 'Internal server error');
          });
        }),
    },
    { socket, request },
  );
  socket.once('close', (code, reason) => {
    clearInterval(keepAlive);
    closed(code, reason.toString()).catch((error: unknown) => logger.error({ err: error }, 'subscription cleanup failed'));
  });
}

/** Every open socket closed with 1001; one that does not finish its closing handshake in time is cut. */
function goingAway(sockets: WebSocketServer): Promise<void[]> {
  return Promise.all(
    [...sockets.clients].map(
      (socket) =>
        new Promise<void>((resolve) => {
          const cut = setTimeout(() => socket.terminate(), CLOSE_WAIT_MS);
          socket.once('close', () => {
            clearTimeout(cut);
            resolve();
          });
          socket.close(1001, 'Going away');
        }),
    ),
  );
}

export function createSubscriptionServer(options: SubscriptionServerOptions): SubscriptionServer {
  const { logger } = options;
  const server = graphqlWsServer(options);
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD_BYTES, handleProtocols: (protocols) => handleProtocols(protocols) });
  sockets.on('error', (error) => logger.error({ err: error }, 'subscription server error'));
  let closing = false;
  return {
    upgrade(req, socket, head) {
      socket.on('error', (error) => logger.warn({ err: error }, 'subscription upgrade socket failed'));
      const path = new URL(req.url ?? '/', 'http://subgraph').pathname;
      if (closing || path !== PATH) {
        socket.end(`HTTP/1.1 ${closing ? '503 Service Unavailable' : '404 Not Found'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
        return;
      }
      sockets.handleUpgrade(req, socket, head, (ws) => serveSocket(server, ws, req, logger, options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS));
    },
    async close() {
      closing = true;
      await goingAway(sockets);
      await new Promise<void>((resolve) => sockets.close(() => resolve()));
    },
  };
}
