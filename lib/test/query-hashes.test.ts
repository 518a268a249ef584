import { createHash as nodeCreateHash } from 'node:crypto';
import { dirname } from 'node:path';
import { rememberQueryHashes } from '../query-hashes';

/**
 * Apollo Server's query hashes, remembered per text (README "Gateway CPU"): the same digests
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
  beforeAll(() => {
    apolloHashes.createHash = (kind) => {
      originalCalls += 1;
      return original(kind);
    };
    rememberQueryHashes();
    rememberQueryHashes(); // twice, as the gateway and a subgraph in one process would: wrapped once
  });
  afterAll(() => {
    apolloHashes.createHash = original;
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
