import { connect } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { allow, and, rule } from 'graphql-shield';
import { applyShield } from '../access/apply-shield';
import { UncoveredFieldsError } from '../access/rule-tree';
import { accessCheck, nobody, signedIn, type AccessContext } from '../access/shield';
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

const ownerOnly = accessCheck('test:owner-only', 'no_cache', (thing: Thing, context: AccessContext) => thing.owner === context.caller?.id);

async function startServer() {
  // Built as every subgraph builds its schema (create-subgraph.ts), with what package.json holds.
  const schema = buildSubgraphSchema([{
    typeDefs: parse(typeDefs),
    resolvers: { Mutation: { touch: (_parent: unknown, { fail }: { fail: string }) => failures[fail]?.() } },
  }]);
  const server = new ApolloServer<AccessContext>({
    plugins: [ApolloServerPluginInlineTraceDisabled()],
    schema: applyShield(schema, { Query: { ok: signedIn, _service: allow }, Mutation: { touch: signedIn }, Thing: { owner: ownerOnly, name: ownerOnly }, _Service: allow }),
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

describe('shield rules through applyShield', () => {
  const rulesTypeDefs = `type Query {
    open: String
    closed: String
    refused: String
    thrown: String
    coded: String
    worded: String
    later: String
    both: String
    counted: [Row]
  }
  type Row { value: Int, secret: Int }`;
  let evaluations = 0;
  const contextualOnce = rule({ cache: 'contextual' })(() => {
    evaluations += 1;
    return true;
  });
  const rowSecret = rule({ cache: 'no_cache' })((row: { value: number }) => row.value % 2 === 0);
  let server: ApolloServer<AccessContext>;

  beforeAll(async () => {
    const schema = buildSubgraphSchema([{
      typeDefs: parse(rulesTypeDefs),
      resolvers: {
        Query: {
          open: () => 'open',
          closed: () => 'closed',
          refused: () => 'refused',
          thrown: () => 'thrown',
          coded: () => 'coded',
          worded: () => 'worded',
          later: () => 'later',
          both: () => 'both',
          counted: () => [1, 2, 3, 4].map((value) => ({ value, secret: value * 10 })),
        },
      },
    }]);
    server = new ApolloServer<AccessContext>({
      plugins: [ApolloServerPluginInlineTraceDisabled()],
      schema: applyShield(schema, {
        Query: {
          open: allow,
          closed: nobody,
          _service: allow,
          refused: rule()(() => false),
          thrown: rule()(() => {
            throw new Error('rule broke');
          }),
          coded: rule()(() => new AppError('BAD_USER_INPUT', 'Not like that')),
          worded: rule()(() => 'Told in words'),
          later: rule()(async () => true),
          both: and(signedIn, rule()(async () => false)),
          counted: contextualOnce,
        },
        Row: { value: contextualOnce, secret: rowSecret },
        _Service: allow,
      }),
    });
    await server.start();
  });
  afterAll(async () => {
    await server.stop();
  });

  async function run(query: string, who: Caller | null = caller) {
    const response = await server.executeOperation({ query }, { contextValue: { caller: who, permissions: new Set() } });
    if (response.body.kind !== 'single') throw new Error('expected a single result');
    return response.body.singleResult;
  }
  /** Errors as [path, code, message], by path: the order graphql-js reports them in follows when each settled. */
  const codes = (result: Awaited<ReturnType<typeof run>>) =>
    (result.errors ?? [])
      .map((error) => [error.path?.join('.') ?? '', error.extensions?.code, error.message] as const)
      .sort(([left], [right]) => left.localeCompare(right));

  it('answers a field whose rule is allow, to anyone', async () => {
    expect(await run('{ open }', null)).toEqual({ data: { open: 'open' } });
  });

  it('refuses a field whose rule is nobody (also shield\'s fallback): FORBIDDEN for a caller, UNAUTHENTICATED for nobody', async () => {
    expect(codes(await run('{ closed }'))).toEqual([['closed', 'FORBIDDEN', expect.any(String)]]);
    expect(codes(await run('{ closed }', null))).toEqual([['closed', 'UNAUTHENTICATED', expect.any(String)]]);
  });

  it('reads false and a throwing rule as FORBIDDEN, an error or a string as the field error, an async true as allowed', async () => {
    const result = await run('{ refused thrown coded worded later }');
    expect(result.data).toEqual({ refused: null, thrown: null, coded: null, worded: null, later: 'later' });
    expect(codes(result)).toEqual([
      ['coded', 'BAD_USER_INPUT', 'Not like that'],
      ['refused', 'FORBIDDEN', expect.any(String)],
      ['thrown', 'FORBIDDEN', expect.any(String)],
      ['worded', 'INTERNAL_SERVER_ERROR', 'Told in words'],
    ]);
  });

  it('runs logic rules as shield does', async () => {
    expect(codes(await run('{ both }'))).toEqual([['both', 'FORBIDDEN', expect.any(String)]]);
  });

  it('checks a per-row rule on every row and a contextual rule once per request', async () => {
    evaluations = 0;
    const result = await run('{ counted { value secret } }');
    expect(result.data).toEqual({
      counted: [
        { value: 1, secret: null },
        { value: 2, secret: 20 },
        { value: 3, secret: null },
        { value: 4, secret: 40 },
      ],
    });
    expect(codes(result).map(([path, code]) => [path, code])).toEqual([
      ['counted.0.secret', 'FORBIDDEN'],
      ['counted.2.secret', 'FORBIDDEN'],
    ]);
    expect(evaluations).toBe(1);
    await run('{ counted { value } }');
    expect(evaluations).toBe(2);
  });
});

describe('permissions fail closed', () => {
  const typeDefs = 'type Query { listed: String, forgotten: String } type Row { value: Int, hidden: Int }';
  const schema = () => buildSubgraphSchema([{ typeDefs: parse(typeDefs), resolvers: {} }]);

  it('refuses a schema with a field that has no rule, naming every such field', () => {
    const refusal = (() => {
      try {
        applyShield(schema(), { Query: { listed: signedIn, _service: allow }, Row: { value: signedIn }, _Service: allow });
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(refusal).toBeInstanceOf(UncoveredFieldsError);
    expect(refusal).toMatchObject({ code: 'PERMISSIONS_UNCOVERED', fields: ['Query.forgotten', 'Row.hidden'] });
    expect((refusal as Error).message).toContain('Query.forgotten, Row.hidden');
  });

  it('counts a type\'s rule and its * as covering its fields, and federation\'s fields as fields like any other', () => {
    expect(() => applyShield(schema(), { Query: { '*': signedIn, _service: allow }, Row: signedIn, _Service: allow })).not.toThrow();
    expect(() => applyShield(schema(), { Query: { listed: signedIn, forgotten: signedIn }, Row: signedIn })).toThrow('Query._service, _Service.sdl');
  });
});

describe('shield on a subscription field', () => {
  /** A field with both subscribe and resolve: graphql-middleware alone would guard only resolve. */
  const schemaWith = (rule: ReturnType<typeof accessCheck>) =>
    applyShield(
      buildSubgraphSchema([{
        typeDefs: parse('type Query { ok: Boolean } type Subscription { ticks: Int! }'),
        resolvers: {
          Subscription: {
            ticks: {
              subscribe: async function* () {
                yield 1;
              },
              resolve: (tick: number) => tick,
            },
          },
        },
      }]),
      { Query: { ok: allow, _service: allow }, Subscription: { ticks: rule }, _Service: allow },
    );

  it('runs the rule at subscribe: refused, no event is ever produced', async () => {
    const { subscribe } = await import('graphql');
    const result = await subscribe({ schema: schemaWith(signedIn), document: parse('subscription { ticks }'), contextValue: { caller: null, permissions: new Set() } });
    expect(Symbol.asyncIterator in result).toBe(false);
    expect('errors' in result && result.errors?.map((error) => error.extensions.code)).toEqual(['UNAUTHENTICATED']);
  });

  it('refuses to start with a rule it cannot run at subscribe', () => {
    expect(() => schemaWith(and(signedIn, allow) as ReturnType<typeof accessCheck>)).toThrow(/subscription field needs a rule/);
  });
});
