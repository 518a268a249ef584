import { contractOperation } from '@popug/testing/contract';
import type { Call } from './load';
import type { Popug } from './popugs';
import type { Stack } from './stack';
import type { SubgraphName, Target } from './targets';

export const TASKS = 20;
export const AUDIT_ROWS = 20;

interface Operation {
  /** What clients send a gateway: the contract's text, with its fragments. */
  query: string;
  /**
   * What the gateway's plan sends the one subgraph that answers it, sent direct: the same
   * fields (the users' come from the subgraph's copy of the directory, @provides).
   */
  direct: { subgraph: SubgraphName; query: string };
  /** A full answer for a seeded popug, checked once per target before load. */
  check: (data: Record<string, unknown>) => boolean;
}

const TITLES = 'query MyTaskTitles { myTasks { id title status } }';

export const OPERATIONS = {
  MyTasks: {
    query: contractOperation('MyTasks'),
    direct: {
      subgraph: 'tracker',
      query: `query MyTasks($status: TaskStatus) {
  myTasks(status: $status) { id title jiraId description status assignFee completionReward createdAt completedAt assignee { id name email role } }
}`,
    },
    check: (data) => Array.isArray(data.myTasks) && data.myTasks.length === TASKS,
  },
  MyAccount: {
    query: contractOperation('MyAccount'),
    direct: {
      subgraph: 'accounting',
      query: `query MyAccount($day: Date) {
  myAccount { user { id name email } balance transactions(day: $day) { id kind amount description businessDay createdAt task { id title jiraId } } }
}`,
    },
    check: (data) => (data.myAccount as { transactions?: unknown[] } | undefined)?.transactions?.length === AUDIT_ROWS,
  },
  /** A single-subgraph query (tracker only), for the gateway's added latency. */
  MyTaskTitles: { query: TITLES, direct: { subgraph: 'tracker', query: TITLES }, check: (data) => Array.isArray(data.myTasks) && data.myTasks.length === TASKS },
} satisfies Record<string, Operation>;

export type OperationName = keyof typeof OPERATIONS;

/**
 * `popug` asking `operation` of `target`: our gateway gets their token, Hive and the subgraphs the
 * gateway's statement for the one subgraph that answers and a request id, fresh for each request.
 */
export function callFor(stack: Stack, target: Target, operation: OperationName, popug: Popug): Call {
  const { query, direct } = OPERATIONS[operation];
  const signed = () => popug.statementFor(direct.subgraph);
  if (target === 'direct') return { url: stack.subgraphUrls[direct.subgraph], headers: signed, body: JSON.stringify({ query: direct.query, variables: {} }) };
  const headers = target === 'ours' ? { authorization: `Bearer ${popug.token}` } : signed;
  return { url: stack.gatewayUrls[target], headers, body: JSON.stringify({ query, variables: {} }) };
}
