import { Supergraph, type Schema } from '@apollo/federation-internals';
import { QueryPlanner, type QueryPlannerConfig } from '@apollo/query-planner';

/** The supergraph built once with its query planner: what the single-fetch judgement and the subscription plans both read. */
export interface SupergraphPlanning {
  supergraph: Supergraph;
  apiSchema: Schema;
  planner: QueryPlanner;
}

let latest: { sdl: string; config: QueryPlannerConfig; planning: SupergraphPlanning } | undefined;

/**
 * The planning of this supergraph text with these planner options. Building it costs tens of
 * milliseconds and a schema's memory; the gateway asks twice for the same supergraph (its
 * queries' single-fetch judgement and its subscriptions), so the latest one is kept and given
 * again while the text and options are the same.
 */
export function planningOver(sdl: string, config: QueryPlannerConfig): SupergraphPlanning {
  if (latest?.sdl === sdl && latest.config === config) return latest.planning;
  const supergraph = Supergraph.build(sdl);
  const planning = { supergraph, apiSchema: supergraph.apiSchema(), planner: new QueryPlanner(supergraph, config) };
  latest = { sdl, config, planning };
  return planning;
}
