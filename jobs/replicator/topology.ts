import type { ReplicaDefinition } from '@popug/lib/replication/replica';
import { accountingDatabase } from '../../subgraphs/accounting/database';
import { accountingReplica } from '../../subgraphs/accounting/replication';
import { analyticsReplica } from '../../subgraphs/analytics/replication';
import { authDatabase } from '../../subgraphs/auth/database';
import { trackerDatabase } from '../../subgraphs/tracker/database';
import { trackerReplica } from '../../subgraphs/tracker/replication';
import type { SourceDefinition } from './replicator';

/** Who writes an outbox, in collect order (users before the tasks that name them). */
export const SOURCES: readonly SourceDefinition[] = [
  { name: 'auth', database: authDatabase },
  { name: 'tracker', database: trackerDatabase },
  { name: 'accounting', database: accountingDatabase },
];

/** Who reads the master log; each subgraph declares its own apply handlers. */
export const REPLICAS: readonly ReplicaDefinition[] = [trackerReplica, accountingReplica, analyticsReplica];

export function replicaNamed(name: string): ReplicaDefinition {
  const replica = REPLICAS.find((candidate) => candidate.name === name);
  if (!replica) throw new Error(`Unknown replica "${name}"; one of: ${REPLICAS.map((known) => known.name).join(', ')}`);
  return replica;
}
