import type { SubgraphContext } from '@popug/lib/subgraph/context';
import type { TaskFeed } from './services/task-updates';

/** What tracker's resolvers need beyond the common context. */
export interface TrackerServices {
  /** taskUpdated's events, from tracker's own change stream. */
  taskFeed: TaskFeed;
}

export type TrackerContext = SubgraphContext<TrackerServices>;
