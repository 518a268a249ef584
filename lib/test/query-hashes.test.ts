import { createHash as nodeCreateHash } from 'node:crypto';
import { dirname } from 'node:path';
import { ApolloServer } from '@apollo/server';
import { rememberQueryHashes } from '../query-hashes';

/**
 * Apollo Server's query hashes, remembered per text (docs/performance.md "Gateway CPU"): the same digests
 * as Node's, whatever the shape of the call, and a repeated text is not hashed again.
 */
interface ApolloCreateHash {
  createHash(kind: string): { update(data: unknown, encoding?: unknown): unknown; digest(encoding?: unknown): unknown };
}
// The module Apollo Server's request pipeline reads, as rememberQueryHashes finds it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const apolloHashes = require(require.resolve('@apollo/utils.createhash', { paths: [dirname(require.resolve('@apollo/server'))] })) as ApolloCreateHash;
const sha256 = (text: string, encoding: 'hex' | 'base64' = 'hex') => nodeCreateHash('sha256').update(text).digest(encoding);

describe('remembered query hashes', () => {
  const original = apolloHashes.createHash;
  let originalCalls = 0;
  /** The texts the original SHA-256 was given: what was really hashed. */
  let hashedTexts: unknown[] = [];
  /** Calls of the export once wrapped: who reads it. */
  let wrapperCalls = 0;
  beforeAll(() => {
    apolloHashes.createHash = (kind) => {
      originalCalls += 1;
      const hash = original(kind);
      const recorded = {
        update(data: unknown, encoding?: unknown) {
          if (kind === 'sha256') hashedTexts.push(data);
          hash.update(data, encoding);
          return recorded;
        },
        digest: (encoding?: unknown) => hash.digest(encoding),
      };
      return recorded;
    };
    rememberQueryHashes();
    rememberQueryHashes(); // twice, as the gateway and a subgraph in one process would: wrapped once
    const wrapped = apolloHashes.createHash;
    apolloHashes.createHash = Object.assign((kind: string) => {
      wrapperCalls += 1;
      return wrapped(kind);
    }, wrapped);
  });
  afterAll(() => {
    apolloHashes.createHash = original;
  });

  it('is what Apollo Server\'s request pipeline hashes a query with: each text hashed once, however often it is sent', async () => {
    const server = new ApolloServer({ typeDefs: 'type Query { hello(name: String): String }', resolvers: { Query: { hello: (_parent: unknown, { name }: { name?: string }) => `hi ${name ?? ''}` } } });
    await server.start();
    try {
      const texts = ['query Hello { hello }', 'query HelloName($name: String) { hello(name: $name) }'];
      wrapperCalls = 0;
      hashedTexts = [];
      for (let round = 0; round < 3; round += 1) {
        for (const query of texts) {
          const response = await server.executeOperation({ query, variables: { name: 'popug' } });
          expect(response.body.kind === 'single' && response.body.singleResult.errors).toBeUndefined();
        }
      }
      // Six requests reached the wrapper (the pipeline reads the wrapped export per call), and each text was hashed once.
      expect(wrapperCalls).toBeGreaterThanOrEqual(6);
      expect(texts.map((query) => hashedTexts.filter((text) => text === query).length)).toEqual([1, 1]);
    } finally {
      await server.stop();
    }
  });

  it('answers the digest Node computes, and hashes a text once', () => {
    const text = 'query MyTasks { myTasks { id title } }';
    originalCalls = 0;
    const digest = () => apolloHashes.createHash('sha256').update(text) as { digest(encoding: string): unknown };
    expect(digest().digest('hex')).toBe(sha256(text));
    expect(digest().digest('hex')).toBe(sha256(text));
    expect(originalCalls).toBe(1);
  });

  it('hashes every other shape of call as before', () => {
    const twoParts = apolloHashes.createHash('sha256');
    twoParts.update('query A ');
    twoParts.update('{ a }');
    expect(twoParts.digest('hex')).toBe(sha256('query A { a }'));
    expect((apolloHashes.createHash('sha256').update('query B { b }') as { digest(encoding: string): unknown }).digest('base64')).toBe(sha256('query B { b }', 'base64'));
    const long = `query Long { ${'a '.repeat(40_000)}}`;
    expect((apolloHashes.createHash('sha256').update(long) as { digest(encoding: string): unknown }).digest('hex')).toBe(sha256(long));
    expect((apolloHashes.createHash('md5').update('x') as { digest(encoding: string): unknown }).digest('hex')).toBe(nodeCreateHash('md5').update('x').digest('hex'));
  });
});
