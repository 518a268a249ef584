import type { TypedDocumentString } from '../generated/graphql';
import { TRUSTED_DOCUMENT_IDS } from '../generated/trusted-documents';

/** Where the gateway answers GraphQL: the dashboards are served by the same origin. */
export const GRAPHQL_PATH = '/graphql';

/**
 * Sent on every request of the web app: the gateway then keeps the refresh token in its
 * HttpOnly cookie and answers null in its place (./browser-session.ts).
 */
export const BROWSER_SESSION_HEADER = { 'x-popug-session': 'cookie' } as const;

/** The codes of docs/architecture.md, Error codes, plus what can go wrong before the API answers. */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'RATE_LIMITED'
  | 'TOO_MANY_REQUESTS'
  | 'INTERNAL_SERVER_ERROR'
  | 'NETWORK'
  | 'BAD_RESPONSE';

/** A failed operation, with a message meant for people and the code to branch on. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: ErrorCode | (string & {}),
    /** For BAD_USER_INPUT: the argument at fault, when the API names one. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const isForbidden = (error: unknown): boolean => error instanceof ApiError && error.code === 'FORBIDDEN';
export const isUnauthenticated = (error: unknown): boolean => error instanceof ApiError && error.code === 'UNAUTHENTICATED';

interface WireError {
  message?: unknown;
  extensions?: { code?: unknown; field?: unknown; requestId?: unknown };
}

interface WireResponse<TResult> {
  data?: TResult | null;
  errors?: WireError[];
}

export interface ExecuteOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string | null;
  signal?: AbortSignal;
  /**
   * Answer the data even when some fields failed (a document that several subgraphs answer,
   * one of them down): its nullable fields are null then. A refused token still throws.
   */
  partial?: boolean;
  /** The request outlives the page (sent while it is hidden or closing); its answer may never be read. */
  keepalive?: boolean;
}

/**
 * Runs one typed operation through the gateway; throws `ApiError` on any error. Signed-in
 * calls go through `authorized` (./authorized.ts), which adds the token and renews it.
 */
export async function execute<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  options: ExecuteOptions = {},
): Promise<TResult> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', ...BROWSER_SESSION_HEADER };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let response: Response;
  try {
    response = await fetch(GRAPHQL_PATH, {
      method: 'POST',
      headers,
      body: JSON.stringify(persistedRequest(document.toString(), variables)),
      signal: options.signal,
      keepalive: options.keepalive,
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new ApiError('The server could not be reached. Check your connection and try again.', 'NETWORK');
  }
  const body = await readBody<TResult>(response);
  const failure = firstError(body.errors ?? []);
  if (failure && !(options.partial && body.data && failure.code !== 'UNAUTHENTICATED')) throw failure;
  if (body.data === undefined || body.data === null) {
    throw new ApiError(`The server answered ${response.status} without data. Try again in a moment.`, 'BAD_RESPONSE');
  }
  return body.data;
}

/** One GraphQL request as the app sends it. */
export interface GraphQLRequest {
  operationName?: string;
  query?: string;
  variables?: unknown;
  extensions?: { persistedQuery: { version: 1; sha256Hash: string } };
}

/**
 * The operation's id in the gateway's trusted-documents manifest instead of its text (the
 * persisted-query protocol; a production gateway runs only manifest operations). Every
 * generated operation has one; the text is sent only for one that has none. Queries and
 * mutations go as JSON bodies, subscriptions the same way (./live.ts).
 */
export function persistedRequest(text: string, variables: unknown): GraphQLRequest {
  const name = /^\s*(?:query|mutation|subscription)\s+(\w+)/.exec(text)?.[1];
  const id = name === undefined ? undefined : TRUSTED_DOCUMENT_IDS[name];
  if (id === undefined) return { query: text, variables };
  return { operationName: name, variables, extensions: { persistedQuery: { version: 1, sha256Hash: id } } };
}

async function readBody<TResult>(response: Response): Promise<WireResponse<TResult>> {
  try {
    return (await response.json()) as WireResponse<TResult>;
  } catch {
    throw new ApiError(
      `The server answered ${response.status} ${response.statusText || ''}`.trim() + ' instead of GraphQL. Try again in a moment.',
      'BAD_RESPONSE',
    );
  }
}

/** The error to show: a refused token first (it decides where the user goes), else the first. */
function firstError(errors: WireError[]): ApiError | undefined {
  const parsed = errors.map(fromWireError);
  return parsed.find((error) => error.code === 'UNAUTHENTICATED') ?? parsed[0];
}

/** One error of a GraphQL answer, as the page shows it. */
function fromWireError(error: WireError): ApiError {
  const code = typeof error.extensions?.code === 'string' ? error.extensions.code : 'INTERNAL_SERVER_ERROR';
  const field = typeof error.extensions?.field === 'string' ? error.extensions.field : undefined;
  const message = typeof error.message === 'string' && error.message ? error.message : 'Something went wrong on the server.';
  const requestId = typeof error.extensions?.requestId === 'string' ? error.extensions.requestId : undefined;
  return new ApiError(readable(code, message, requestId), code, field);
}

/** Anything a call threw, as an ApiError: what `execute` threw is one already; a bug in the page is not. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(error instanceof Error ? error.message : String(error), 'INTERNAL_SERVER_ERROR');
}

/** Server messages are written for people already; a few codes deserve a friendlier line. */
function readable(code: string, message: string, requestId: string | undefined): string {
  switch (code) {
    case 'INTERNAL_SERVER_ERROR':
      return requestId
        ? `Something went wrong on the server (request id ${requestId}). Try again; if it keeps failing, tell an admin this id.`
        : 'Something went wrong on the server. Try again in a moment.';
    case 'GRAPHQL_VALIDATION_FAILED':
    case 'GRAPHQL_PARSE_FAILED':
      return `This page and the server disagree about the API (${message}). Reload the page.`;
    default:
      return message;
  }
}
