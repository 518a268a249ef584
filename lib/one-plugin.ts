import type { ApolloServerPlugin, BaseContext, GraphQLRequestListener } from '@apollo/server';

/** The request hooks that only notify (their answers are ignored): calling several of them in one hook changes nothing. */
const NOTIFICATIONS = ['didResolveSource', 'didResolveOperation', 'didEncounterErrors', 'willSendResponse'] as const;
type Notification = (typeof NOTIFICATIONS)[number];
type NotificationHook = (requestContext: never) => Promise<void>;

/**
 * Our request plugins as one (docs/performance.md "Gateway CPU"). Apollo Server calls every hook of
 * every plugin on every request through `Promise.all`, a promise or two per plugin per hook
 * even where a plugin has no such hook: with seven plugins, more than half of the promises
 * a request made, and each of them costs more again under the tracing SDK's promise hook.
 * Here one listener per request calls the hooks the plugins have, the way Apollo would:
 * each in plugin order, together, the first failure failing the hook.
 *
 * Only plugins made of `requestDidStart` whose listeners only notify (NOTIFICATIONS) can be
 * joined: anything else is refused when the plugin is built or the request starts, never
 * silently dropped.
 */
export function asOnePlugin<TContext extends BaseContext>(plugins: readonly ApolloServerPlugin<TContext>[]): ApolloServerPlugin<TContext> {
  for (const plugin of plugins) {
    const other = Object.keys(plugin).find((hook) => hook !== 'requestDidStart');
    if (other) throw new Error(`asOnePlugin joins request listeners only; a plugin has ${other}`);
  }
  return {
    async requestDidStart(requestContext) {
      const listeners = (await Promise.all(plugins.map((plugin) => plugin.requestDidStart?.(requestContext)))).filter((listener): listener is GraphQLRequestListener<TContext> => !!listener);
      return joinedListener(listeners);
    },
  };
}

function joinedListener<TContext extends BaseContext>(listeners: readonly GraphQLRequestListener<TContext>[]): GraphQLRequestListener<TContext> {
  const joined: Partial<Record<Notification, NotificationHook>> = {};
  for (const listener of listeners) {
    const other = Object.keys(listener).find((hook) => !(NOTIFICATIONS as readonly string[]).includes(hook));
    if (other) throw new Error(`asOnePlugin joins notifying hooks only; a listener has ${other}`);
  }
  for (const hook of NOTIFICATIONS) {
    const hooks = listeners.flatMap((listener) => (listener[hook] ? [(listener[hook] as NotificationHook).bind(listener)] : []));
    const [only] = hooks;
    if (only) joined[hook] = hooks.length === 1 ? only : async (requestContext) => void (await Promise.all(hooks.map((each) => each(requestContext))));
  }
  return joined as GraphQLRequestListener<TContext>;
}
