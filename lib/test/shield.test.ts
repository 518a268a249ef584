import { connect } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { applyMiddleware } from 'graphql-middleware';
import { rule } from 'graphql-shield';
import { createShield, signedIn, type AccessContext } from '../access/shield';
import { AppError } from '../errors';
import type { Caller } from '../identity';

/**
 * Shield hands a resolver's error back to graphql-js, which must see it as an error and not
 * as the field's value: otherwise a failed mutation's Error object becomes the "task" whose
 * fields the next rule checks, and the client is told FORBIDDEN instead of an internal error.
 * Errors made by Node's own modules (a socket reset under the database driver) are the hard
 * case: they come from another realm than graphql-js under jest, so `instanceof Error` fails.
 */

interface Thing {
  owner: string;
  name: string;
}

const typeDefs = 'type Query { ok: Boolean } type Mutation { touch(fail: String!): Thing } type Thing { owner: String, name: String }';

/** An error made by Node itself: a refused connection to a closed loopback port. */
function nodeCoreError(): Promise<Error> {
  return new Promise((resolve) => connect(1, '127.0.0.1').on('error', resolve));
}

const failures: Record<string, () => Promise<unknown>> = {
  none: async () => ({ owner: 'popug-1', name: 'fine' }),
  plain: async () => {
    throw new Error('driver said no');
  },
  'node-core': async () => {
    throw await nodeCoreError();
  },
  expected: async () => {
    throw new AppError('BAD_USER_INPUT', 'That will not do');
  },
};

const ownerOnly = rule({ cache: 'no_cache' })((thing: Thing, _args, context: AccessContext) => thing.owner === context.caller?.id);

async function startServer() {
  const schema = makeExecutableSchema({
    typeDefs,
    resolvers: { Mutation: { touch: (_parent: unknown, { fail }: { fail: string }) => failures[fail]?.() } },
  });
  const server = new ApolloServer<AccessContext>({
    schema: applyMiddleware(schema, createShield(schema, { Query: { ok: signedIn }, Mutation: { touch: signedIn }, Thing: { owner: ownerOnly, name: ownerOnly } })),
  });
  await server.start();
  return server;
}

const caller: Caller = { id: 'popug-1', email: 'popug-1@popug.test', name: 'Popug One', role: 'worker', revision: 1 };

async function touch(server: ApolloServer<AccessContext>, fail: string) {
  const response = await server.executeOperation(
    { query: 'mutation ($fail: String!) { touch(fail: $fail) { owner name } }', variables: { fail } },
    { contextValue: { caller, permissions: new Set() } },
  );
  if (response.body.kind !== 'single') throw new Error('expected a single result');
  return response.body.singleResult;
}

describe('shield and resolver errors', () => {
  let server: ApolloServer<AccessContext>;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('lets an allowed result through', async () => {
    expect(await touch(server, 'none')).toEqual({ data: { touch: { owner: 'popug-1', name: 'fine' } } });
  });

  it.each(['plain', 'node-core'])('reports a %s resolver error on the mutation field itself, never as a refused child field', async (fail) => {
    const result = await touch(server, fail);
    expect(result.data).toEqual({ touch: null });
    expect(result.errors).toHaveLength(1);
    expect(result.errors?.[0]?.path).toEqual(['touch']);
    expect(result.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
  });

  it('keeps an expected error with its code', async () => {
    const result = await touch(server, 'expected');
    expect(result.errors).toEqual([expect.objectContaining({ message: 'That will not do', path: ['touch'], extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) })]);
  });
});
