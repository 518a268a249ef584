import { ApolloServer, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { asOnePlugin } from '../one-plugin';

/** Our request plugins joined into one (docs/performance.md "Gateway CPU"): every hook still called, in order, and failures still fail. */
const typeDefs = 'type Query { hello: String }';
const resolvers = { Query: { hello: () => 'world' } };

function recorder(name: string, calls: string[], refuse = false): ApolloServerPlugin<BaseContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operationName }) {
          calls.push(`${name}:didResolveOperation:${operationName ?? ''}`);
          if (refuse) throw new GraphQLError(`${name} refuses`, { extensions: { code: 'BAD_USER_INPUT' } });
        },
        async didEncounterErrors({ errors }) {
          calls.push(`${name}:didEncounterErrors:${errors.length}`);
        },
        async willSendResponse() {
          calls.push(`${name}:willSendResponse`);
        },
      };
    },
  };
}

async function serverWith(plugin: ApolloServerPlugin<BaseContext>): Promise<ApolloServer> {
  const server = new ApolloServer({ typeDefs, resolvers, plugins: [plugin] });
  await server.start();
  return server;
}

describe('request plugins joined into one', () => {
  it('calls every plugin\'s hooks, in plugin order, and answers as before', async () => {
    const calls: string[] = [];
    const server = await serverWith(asOnePlugin([recorder('first', calls), { async requestDidStart() {} }, recorder('second', calls)]));
    const response = await server.executeOperation({ query: 'query Hello { hello }' });
    expect(response.body.kind === 'single' && response.body.singleResult.data).toEqual({ hello: 'world' });
    expect(calls).toEqual(['first:didResolveOperation:Hello', 'second:didResolveOperation:Hello', 'first:willSendResponse', 'second:willSendResponse']);
    await server.stop();
  });

  it('fails the request when one plugin refuses it, and still tells every plugin of the error', async () => {
    const calls: string[] = [];
    const server = await serverWith(asOnePlugin([recorder('first', calls), recorder('second', calls, true)]));
    const response = await server.executeOperation({ query: 'query Hello { hello }' });
    const result = response.body.kind === 'single' ? response.body.singleResult : undefined;
    expect(result?.data).toBeUndefined();
    expect(result?.errors?.map((error) => [error.message, error.extensions?.code])).toEqual([['second refuses', 'BAD_USER_INPUT']]);
    expect(calls).toContain('first:didEncounterErrors:1');
    expect(calls).toContain('second:didEncounterErrors:1');
    await server.stop();
  });

  it('refuses what it cannot join instead of dropping it', async () => {
    expect(() => asOnePlugin([{ async serverWillStart() {} }])).toThrow(/serverWillStart/);
    const server = await serverWith(asOnePlugin([{ async requestDidStart() {
      return { async executionDidStart() {} };
    } }]));
    // requestDidStart throws: Apollo fails the request rather than run it without the hook.
    await expect(server.executeOperation({ query: '{ hello }' })).rejects.toThrow('Internal server error');
    await server.stop();
  });
});
