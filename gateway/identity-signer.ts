import type { KeyObject } from 'node:crypto';
import { signAnonymousStatement, signIdentity, statementAudience, STATEMENT_MAX_SECONDS, type Caller } from '@popug/lib/identity';

/** The statement a request's call to one subgraph carries, by the subgraph's name. */
export type StatementFor = (subgraph: string) => string;

/**
 * Signs the resolved caller for the subgraphs: one statement per subgraph a request calls,
 * made for that subgraph and that request id, living STATEMENT_MAX_SECONDS. Signed when a
 * subgraph is first called (most requests call one) and reused by the request's later calls
 * to the same subgraph (entity fetches).
 */
export class IdentitySigner {
  constructor(private readonly key: KeyObject) {}

  /** The statements of one request, by `caller` (null: anonymous) and its request id. */
  forRequest(caller: Caller | null, requestId: string): StatementFor {
    const signed = new Map<string, string>();
    return (subgraph) => {
      let statement = signed.get(subgraph);
      if (statement === undefined) {
        const options = { audience: statementAudience(subgraph), requestId, ttlSeconds: STATEMENT_MAX_SECONDS };
        statement = caller ? signIdentity(caller, this.key, options) : signAnonymousStatement(this.key, options);
        signed.set(subgraph, statement);
      }
      return statement;
    };
  }

  /** Throws unless the key signs (the gateway's /ready). */
  assertCanSign(): Promise<void> {
    return Promise.resolve().then(() => void signAnonymousStatement(this.key, { audience: statementAudience('gateway'), requestId: 'ready' }));
  }
}
