import { ApolloServer } from '@apollo/server';
import pino from 'pino';
import { AppError } from '../errors';
import { errorLoggingPlugin, INTERNAL_MESSAGE, maskError, type RequestScoped } from '../graphql-errors';

/**
 * Internal errors reach clients masked, with the request id under which they were logged;
 * expected errors keep their message and code, with no stack trace, even outside production.
 */

const typeDefs = 'type Query { broken: String, refused: String, fine: String }';

async function serverWithLog() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const server = new ApolloServer<RequestScoped>({
    typeDefs,
    resolvers: {
      Query: {
        broken: () => {
          throw new Error('connection to 10.0.0.7:5432 refused; password=hunter2');
        },
        refused: () => {
          throw new AppError('FORBIDDEN', 'You have no access to this');
        },
        fine: () => 'ok',
      },
    },
    formatError: maskError,
    includeStacktraceInErrorResponses: true,
    plugins: [errorLoggingPlugin<RequestScoped>(logger)],
  });
  await server.start();
  return { server, lines };
}

function singleResult(response: Awaited<ReturnType<ApolloServer<RequestScoped>['executeOperation']>>) {
  if (response.body.kind !== 'single') throw new Error('expected a single result');
  return response.body.singleResult;
}

describe('error masking', () => {
  it('masks an internal error, tells the client its request id, and logs the original under it', async () => {
    const { server, lines } = await serverWithLog();
    try {
      const result = singleResult(await server.executeOperation({ query: '{ broken fine }' }, { contextValue: { requestId: 'req-42' } }));
      expect(result.data).toEqual({ broken: null, fine: 'ok' });
      expect(result.errors).toEqual([
        { message: INTERNAL_MESSAGE, locations: [{ line: 1, column: 3 }], path: ['broken'], extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'req-42' } },
      ]);
      expect(JSON.stringify(result)).not.toMatch(/hunter2|10\.0\.0\.7|stacktrace/);
      expect(lines).toEqual([expect.objectContaining({ requestId: 'req-42', msg: expect.stringContaining('password=hunter2') })]);
    } finally {
      await server.stop();
    }
  });

  it('passes expected errors through with their code, without a stack trace, and logs none of them', async () => {
    const { server, lines } = await serverWithLog();
    try {
      const result = singleResult(await server.executeOperation({ query: '{ refused }' }, { contextValue: { requestId: 'req-43' } }));
      expect(result.errors).toEqual([
        { message: 'You have no access to this', locations: [{ line: 1, column: 3 }], path: ['refused'], extensions: { code: 'FORBIDDEN' } },
      ]);
      expect(lines).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('keeps a validation error readable for the client', () => {
    const formatted = maskError({ message: 'Cannot query field "x"', extensions: { code: 'GRAPHQL_VALIDATION_FAILED', stacktrace: ['at x'] } });
    expect(formatted).toEqual({ message: 'Cannot query field "x"', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
  });
});
