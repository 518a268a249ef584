import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex, Writable } from 'node:stream';
import { GraphQLError } from 'graphql';
import { createHandler, type OperationResult } from 'graphql-sse';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { BODY_ERROR_MESSAGES, bodyErrorPayload } from '@popug/lib/body-errors';
import { GRAPHQL_MAX_BODY_BYTES, readBody, type GraphQLRefusal, type HTTPGraphQLInput } from '@popug/lib/graphql-endpoint';
import type { Logger } from '@popug/lib/logger';
import type { TrustedDocuments } from '../trusted-documents';
import type { ClientConnection, FederatedSubscriptions } from './federated-subscriptions';
import type { StreamResult } from './live-subscription';
import { endTakenSocket, responseHead } from './stream-takeover';

/** Keep-alive: a WebSocket ping (a peer that does not pong by the next is closed); SSE streams get graphql-sse's own comment line every 12 s. */
export const WS_HEARTBEAT_MS = 15_000;
/** Bytes a client may leave unread on its socket before it is dropped as a slow consumer. */
export const MAX_UNREAD_BYTES = 1024 * 1024;

export interface SubscriptionTransports {
  /** GraphQL over SSE, distinct connections: a request to /graphql with `Accept: text/event-stream`, its body read (lib/graphql-endpoint.ts). */
  eventStream(req: IncomingMessage, res: ServerResponse, input: HTTPGraphQLInput): Promise<void>;
  /**
   * The same on a socket Node's HTTP server has handed over (./stream-takeover.ts): the body is
   * read here, by the same rules, and the response written on the socket, which closes after it.
   */
  takenEventStream(req: IncomingMessage, socket: Duplex): Promise<void>;
  /** GraphQL over WebSocket (graphql-transport-ws) at `path`: the Service's `upgrade` hook. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** SIGTERM: WebSockets close with 1001 "Going away". */
  close(): Promise<void>;
}

const JSON_HEADERS: Readonly<Record<string, string>> = { 'content-type': 'application/json; charset=utf-8' };

/** What an event-stream request is answered with: a whole body (a refusal), or the stream. */
type StreamAnswer = { status: number; statusText?: string; headers: Record<string, string> } & ({ body: string } | { stream: AsyncGenerator<string, void> });

/** What graphql-sse holds of an event-stream request while it streams. */
interface StreamRequest {
  authorization?: string;
}

interface StreamContext extends Record<PropertyKey, unknown> {
  stream: AsyncGenerator<StreamResult, undefined>;
}

interface WsConnection extends ClientConnection {
  authorization?: string;
  streams: Map<string, AsyncGenerator<StreamResult, undefined>>;
}

const refusalError = (refusal: GraphQLRefusal) => new GraphQLError(refusal.message, { extensions: { code: refusal.code } });
const isRefusal = (value: object): value is GraphQLRefusal => 'code' in value && 'status' in value;

/**
 * The two client transports of subscriptions at the gateway (docs/architecture.md
 * "Subscriptions"): graphql-sse's handler and graphql-ws's server, each with our admission and
 * our federated execution in place of their own `execute`/`subscribe`. Trusted documents are
 * decided here, before anything is parsed: a document id or a manifest text, as for queries.
 */
export function subscriptionTransports(subscriptions: FederatedSubscriptions, trusted: TrustedDocuments, path: string, production: boolean, logger: Logger): SubscriptionTransports {
  const schema = subscriptions.options.plans.schema;

  const sse = createHandler<StreamRequest>({
    // Distinct connections only: no reservations, so no stream lives beyond its request.
    authenticate: () => null,
    // The stream is the operation's result (graphql-sse's documented OperationResult answer):
    // admitted and validated by us already, its results formatted (masked errors) as graphql-sse prints them.
    onSubscribe: async (req, params) => {
      const admitted = await subscriptions.admit(params, req.raw.authorization);
      if (isRefusal(admitted)) return refusalResponse(admitted);
      const stream = subscriptions.start(admitted, { live: 0 });
      if (isRefusal(stream)) return refusalResponse(stream);
      return stream as unknown as OperationResult;
    },
  });

  /** graphql-sse's answer to an event-stream request whose body is read: a refusal, a body, or the stream. */
  const answerStream = async (req: IncomingMessage, { method, search, body }: HTTPGraphQLInput): Promise<StreamAnswer> => {
    const request = method === 'GET' ? fromSearch(search) : body;
    const document = trusted.documentOf(request);
    if ('refusal' in document) return { status: document.refusal.status, headers: JSON_HEADERS, body: JSON.stringify(bodyErrorPayload(document.refusal.message, document.refusal.code)) };
    const params = { ...(request as Record<string, unknown>), query: document.query };
    const authorization = headerOf(req, 'authorization');
    const [answer, init] = await sse({
      // graphql-sse reads the request as a JSON POST: the body is read and its document resolved already.
      method: 'POST',
      url: req.url ?? path,
      headers: { get: (name) => (name === 'content-type' ? 'application/json' : name === 'accept' ? 'text/event-stream' : name === 'authorization' ? authorization : undefined) },
      body: params,
      // What admission reads of the request, not the request: graphql-sse keeps this for the stream's life.
      raw: { authorization },
      context: undefined,
    });
    const headers = (init.headers ?? {}) as Record<string, string>;
    if (!answer || typeof answer === 'string') return { status: init.status ?? 200, statusText: init.statusText, headers, body: answer ?? '' };
    return { status: init.status ?? 200, statusText: init.statusText, headers, stream: answer };
  };

  const eventStream: SubscriptionTransports['eventStream'] = async (req, res, input) => {
    const answer = await answerStream(req, input);
    if ('stream' in answer) {
      res.writeHead(answer.status, answer.statusText, answer.headers);
      pipeEventStream(answer.stream, res);
      return;
    }
    res.writeHead(answer.status, answer.statusText, { ...answer.headers, 'content-length': String(Buffer.byteLength(answer.body)) });
    res.end(answer.body);
  };

  const takenEventStream: SubscriptionTransports['takenEventStream'] = async (req, socket) => {
    // Node has handed the socket over: its errors and its end are ours now.
    socket.on('error', (error) => logger.debug({ err: error }, 'an event stream socket failed'));
    const body = await readBody(req, GRAPHQL_MAX_BODY_BYTES);
    if ('refused' in body) {
      endTakenSocket(socket, body.refused, undefined, JSON_HEADERS, JSON.stringify(bodyErrorPayload(BODY_ERROR_MESSAGES[body.refused], 'BAD_REQUEST')));
      return;
    }
    const url = req.url ?? path;
    const queryAt = url.indexOf('?');
    const answer = await answerStream(req, { method: req.method ?? 'GET', search: queryAt === -1 ? '' : url.slice(queryAt), body: body.parsed });
    if (!('stream' in answer)) {
      endTakenSocket(socket, answer.status, answer.statusText, answer.headers, answer.body);
      return;
    }
    if (!socket.writable) {
      void answer.stream.return(undefined);
      return;
    }
    socket.write(responseHead(answer.status, answer.statusText, answer.headers));
    // A client sends nothing more on an event stream: read (and drop) what comes, to see its end at once (Node's server did so for its requests).
    socket.on('end', () => socket.destroy());
    socket.resume();
    pipeEventStream(answer.stream, socket);
  };

  const wss = new WebSocketServer({ noServer: true, maxPayload: GRAPHQL_MAX_BODY_BYTES });
  const connections = new WeakMap<WebSocket, WsConnection>();
  const ws = useServer<Record<string, unknown> | undefined>(
    {
      // Ours decides, not process.env.NODE_ENV: in production graphql-ws sends no internal error's message.
      isProd: production,
      onConnect: (ctx) => {
        const authorization = ctx.connectionParams?.authorization;
        connections.set(ctx.extra.socket, { live: 0, streams: new Map(), authorization: typeof authorization === 'string' ? authorization : undefined });
        return true;
      },
      onSubscribe: async (ctx, id, payload) => {
        const connection = connections.get(ctx.extra.socket);
        if (!connection) return [new GraphQLError('Not connected', { extensions: { code: 'BAD_REQUEST' } })];
        // graphql-ws requires a `query` string: an empty one with a persisted-query id names a trusted document.
        const document = trusted.documentOf({ ...payload, query: payload.query === '' ? undefined : payload.query });
        if ('refusal' in document) return [refusalError(document.refusal)];
        const admitted = await subscriptions.admit({ ...payload, query: document.query }, connection.authorization);
        if (isRefusal(admitted)) return [refusalError(admitted)];
        const stream = subscriptions.start(admitted, connection);
        if (isRefusal(stream)) return [refusalError(stream)];
        connection.streams.set(id, stream);
        return { schema, document: admitted.document, operationName: admitted.operationName, variableValues: admitted.variables, contextValue: { stream } };
      },
      subscribe: (args) => (args.contextValue as StreamContext).stream as unknown as ReturnType<NonNullable<Parameters<typeof useServer>[0]['subscribe']>>,
      onNext: (ctx, _id, _payload, _args, result) => {
        if (ctx.extra.socket.bufferedAmount > MAX_UNREAD_BYTES) ctx.extra.socket.terminate();
        // Sent as it is: its errors are formatted (and masked) already, where graphql-ws would call each one's toJSON().
        return result as StreamResult;
      },
      onComplete: (ctx, id) => {
        const connection = connections.get(ctx.extra.socket);
        const stream = connection?.streams.get(id);
        connection?.streams.delete(id);
        void stream?.return(undefined);
      },
      onClose: (ctx) => {
        const connection = connections.get(ctx.extra.socket);
        for (const stream of connection?.streams.values() ?? []) void stream.return(undefined);
        connection?.streams.clear();
      },
    },
    wss,
    WS_HEARTBEAT_MS,
  );

  return {
    eventStream,
    takenEventStream,
    upgrade(req, socket, head) {
      const url = req.url ?? '/';
      const pathname = url.split('?', 1)[0];
      if (pathname !== path && pathname !== `${path}/`) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      socket.on('error', (error) => logger.debug({ err: error }, 'a WebSocket upgrade failed'));
      wss.handleUpgrade(req, socket, head, (client) => wss.emit('connection', client, req));
    },
    close: async () => {
      await ws.dispose();
    },
  };
}

/**
 * Writes graphql-sse's stream to the response, one chunk at a time, and returns at once: an
 * idle stream holds one pending read, not the suspended frames of an `async` loop and its
 * callers (docs/performance.md "Live updates"). A client that stops reading is dropped, not
 * buffered for without bound; one that leaves ends the stream (graphql-sse returns it upstream).
 */
function pipeEventStream(answer: AsyncGenerator<string, void>, res: Writable): void {
  const stop = () => void answer.return(undefined);
  const write = (result: IteratorResult<string, void>): void => {
    if (result.done || !res.writable) {
      res.off('close', stop);
      if (!result.done) stop();
      res.end();
      return;
    }
    if (res.writableLength > MAX_UNREAD_BYTES) {
      res.destroy();
      return;
    }
    res.write(result.value);
    answer.next().then(write, fail);
  };
  const fail = (error: unknown) => res.destroy(error instanceof Error ? error : new Error(String(error)));
  res.once('close', stop);
  answer.next().then(write, fail);
}

function refusalResponse(refusal: GraphQLRefusal): [string, { status: number; statusText: string; headers: Record<string, string> }] {
  return [JSON.stringify(bodyErrorPayload(refusal.message, refusal.code)), { status: refusal.status, statusText: 'Refused', headers: { 'content-type': 'application/json; charset=utf-8' } }];
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** A GET's request as graphql-sse reads it: query, operationName and the variables and extensions JSON (unparsable JSON reads as absent). */
function fromSearch(search: string): Record<string, unknown> {
  const params = new URLSearchParams(search);
  const json = (name: string): unknown => {
    try {
      return JSON.parse(params.get(name) ?? 'null') as unknown;
    } catch {
      return undefined;
    }
  };
  return { query: params.get('query') ?? undefined, operationName: params.get('operationName') ?? undefined, variables: json('variables') ?? undefined, extensions: json('extensions') ?? undefined };
}

