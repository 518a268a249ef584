import { dirname } from 'node:path';
import { LRUCache } from 'lru-cache';

/**
 * The SHA-256 of each query text remembered, in the gateway and every subgraph (docs/performance.md
 * "Gateway CPU").
 *
 * Apollo Server hashes the text of every request it is sent (`computeQueryHash`: its document
 * store and the gateway's trusted-documents check are keyed by the hash): a Hash object,
 * SHA-256 over a few kB and a hex string per request, about 1.7 % of the gateway's CPU, and
 * with tracing on a `require('crypto')` per request through the instrumentations' require
 * hook. Clients send the same few texts over and over (the subgraphs get the query planner's
 * few), and looking a text up in a map is several times cheaper than hashing it again, so the
 * hash is computed once per text.
 *
 * There is no option for this in @apollo/server 5, so the export its request pipeline reads
 * on every call (`@apollo/utils.createhash`, Apollo Server's own copy) is wrapped once per
 * process. Only the exact shape of that call — SHA-256, one string update, a hex digest — is
 * answered from the map; anything else is hashed as before, by the original.
 */
type CreateHash = (kind: string) => HashLike;
interface HashLike {
  update(data: unknown, encoding?: unknown): HashLike;
  digest(encoding?: unknown): unknown;
}
interface CreateHashModule {
  createHash: CreateHash & { remembersQueryHashes?: true };
}

/** Texts kept, by their total length: thousands of contract-sized operations, bounded whatever clients send. */
const REMEMBERED_CHARS = 8 * 1024 * 1024;
/** A text this long is hashed every time rather than crowd out the rest. */
const LONGEST_REMEMBERED = 64 * 1024;

export function rememberQueryHashes(): void {
  const apolloServer = dirname(require.resolve('@apollo/server'));
  // Apollo Server's copy of the module (it may differ from the gateway's), whose export its pipeline reads per call.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = require(require.resolve('@apollo/utils.createhash', { paths: [apolloServer] })) as CreateHashModule;
  const original = module.createHash;
  if (original.remembersQueryHashes) return;
  const hexes = new LRUCache<string, string>({ maxSize: REMEMBERED_CHARS, sizeCalculation: (_hex, text) => text.length + 64 });
  const wrapped: CreateHashModule['createHash'] = (kind) => (kind === 'sha256' ? new RememberedSha256(original, hexes) : original(kind));
  wrapped.remembersQueryHashes = true;
  module.createHash = wrapped;
}

/** Holds what it is given until the digest: one string and a hex digest come from the map. */
class RememberedSha256 implements HashLike {
  private readonly updates: [data: unknown, encoding: unknown][] = [];

  constructor(
    private readonly original: CreateHash,
    private readonly hexes: LRUCache<string, string>,
  ) {}

  update(data: unknown, encoding?: unknown): HashLike {
    this.updates.push([data, encoding]);
    return this;
  }

  digest(encoding?: unknown): unknown {
    const [only, ...more] = this.updates;
    const text = only?.[0];
    if (encoding !== 'hex' || more.length > 0 || only?.[1] !== undefined || typeof text !== 'string' || text.length > LONGEST_REMEMBERED) return this.hashed(encoding);
    let hex = this.hexes.get(text);
    if (hex === undefined) {
      hex = this.hashed('hex') as string;
      this.hexes.set(text, hex);
    }
    return hex;
  }

  private hashed(encoding: unknown): unknown {
    const hash = this.original('sha256');
    for (const [data, dataEncoding] of this.updates) hash.update(data, dataEncoding);
    return hash.digest(encoding);
  }
}
