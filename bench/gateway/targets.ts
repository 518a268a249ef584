export type SubgraphName = 'auth' | 'tracker' | 'accounting' | 'analytics';
export const SUBGRAPHS: readonly SubgraphName[] = ['auth', 'tracker', 'accounting', 'analytics'];

export type Gateway = 'ours' | 'hiveJs' | 'hiveRust';
export const GATEWAYS: readonly Gateway[] = ['ours', 'hiveJs', 'hiveRust'];

/** Where a request goes: one of the gateways, or the subgraph that owns the operation's root field. */
export type Target = 'direct' | Gateway;
export const TARGETS: readonly Target[] = ['direct', ...GATEWAYS];

export const TARGET_LABEL: Record<Target, string> = {
  direct: 'direct to the subgraph',
  ours: 'our gateway',
  hiveJs: 'Hive Gateway (JS planner)',
  hiveRust: 'Hive Gateway + router-runtime (Rust planner)',
};

/** The processes whose CPU is charged to a request: the gateway under test, each subgraph, PostgreSQL. */
export type Role = 'gateway' | SubgraphName | 'postgres';
export const ROLES: readonly Role[] = ['gateway', ...SUBGRAPHS, 'postgres'];
