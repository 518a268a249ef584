import type { KeyObject } from 'node:crypto';
import type { IncomingMessage, RequestListener } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApolloServer, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema, type GraphQLResolverMap } from '@apollo/subgraph';
import type { Express } from 'express';
import { createExpressApp } from '../express-app';
import type { DocumentNode } from 'graphql';
import type { IRules } from 'graphql-shield';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Registry } from 'prom-client';
import { PermissionStore } from '../access/permission-store';
import { applyShield } from '../access/apply-shield';
import { IdentityVerifier, statementAudience } from '../identity';
import { errorLoggingPlugin, maskError } from '../graphql-errors';
import { bodyErrorHandler } from '../body-errors';
import { graphqlEndpoint } from '../graphql-endpoint';
import { databaseAnswers, mountHealth, mountProbes, type HealthDetails, type ReadinessCheck, type ReadinessChecks } from '../health';
import { SUBGRAPH_QUERY_LIMITS, queryLimitProtection } from '../graphql-limits';
import { textInputPlugin } from '../text-input';
import type { Logger } from '../logger';
import { createServiceMetrics } from '../metrics';
import { asOnePlugin } from '../one-plugin';
import { tracingIsOn } from '../tracing/active';
import { operationSpansPlugin } from '../tracing/operation-spans';
import { spanRootFields } from '../tracing/root-field-spans';
import { buildContext, type SubgraphContext } from './context';
import { createSubscriptionServer } from './subscriptions';

export interface SubgraphOptions {
  name: string;
  typeDefs: DocumentNode;
  // Resolver maps are typed per subgraph by codegen; here any of them is accepted.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  resolvers: GraphQLResolverMap<any>;
  rules: IRules;
  permissionCatalog: readonly string[];
  orm: MikroORM;
  gatewayKey: KeyObject;
  logger: Logger;
  permissionCacheMs: number;
  /** The subgraph's own dependencies, handed to resolvers as `context.services`. */
  services?: unknown;
  /** Extra routes (auth's identity endpoint) mounted before /graphql. */
  routes?: (app: Express) => void;
  /**
   * Shared dependencies some requests need (auth and accounting: the Redis their mail queue
   * uses): `/health` is degraded while one is down; `/ready` does not check them, since one
   * down for every replica would take the whole subgraph out of its Service.
   */
  wanted?: ReadinessChecks;
  /** Gauges of the subgraph's own on its /metrics (accounting: the day close). */
  metrics?: (registry: Registry) => void;
  /** What `/health` shows beside the database (accounting: the day close). */
  health?: HealthDetails;
  /** `/ready`'s database check; by default the database answers `select 1`. */
  databaseReady?: ReadinessCheck;
  /** NODE_ENV=production: no introspection (the gateway composes from the committed supergraph), no field suggestions. */
  production?: boolean;
}

export interface Subgraph {
  /** The public port: GraphQL on /graphql, /live, /ready and the extra routes (auth's /identity). */
  app: RequestListener;
  /** The internal port: /health and /metrics. */
  internal: RequestListener;
  apollo: ApolloServer<SubgraphContext>;
  permissionStore: PermissionStore;
  /** GraphQL over WebSocket at /graphql: the gateway's subscriptions (./subscriptions.ts). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes every subscription socket (1001), first on SIGTERM. */
  closeUpgrades(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * What Apollo's cache-control plugin answered for every subgraph response (no schema has a
 * cache hint and the default max age is 0), without its hook around every field resolver:
 * about 4 % of a subgraph's CPU for a list of tasks.
 */
function noStorePlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          response.http.headers.set('cache-control', 'no-store');
        },
      };
    },
  };
}

/** Builds a subgraph's HTTP app without listening, so tests can drive it as it is. */
export async function createSubgraph(options: SubgraphOptions): Promise<Subgraph> {
  const permissionStore = new PermissionStore(options.permissionCatalog, options.permissionCacheMs);
  const subgraphSchema = buildSubgraphSchema([{ typeDefs: options.typeDefs, resolvers: options.resolvers }]);
  const shielded = applyShield(subgraphSchema, options.rules);
  const schema = tracingIsOn() ? spanRootFields(shielded) : shielded;
  const metrics = createServiceMetrics(options.name);
  const limits = queryLimitProtection<SubgraphContext>(SUBGRAPH_QUERY_LIMITS, { hideSchema: options.production === true });
  const mode = options.production === true ? 'production' : 'development';
  const apollo = new ApolloServer<SubgraphContext>({
    schema,
    // Every default Apollo Server derives from NODE_ENV comes from our setting, never process.env.
    nodeEnv: mode,
    // SIGTERM is ours (lib/lifecycle.ts): Apollo's own handler, on unless NODE_ENV is "test", re-raised
    // the signal a few ms into our drain and killed the requests in flight (exit 143).
    stopOnTerminationSignals: false,
    introspection: options.production !== true,
    validationRules: limits.validationRules,
    parseOptions: limits.parseOptions,
    formatError: maskError,
    includeStacktraceInErrorResponses: false,
    plugins: [
      ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginCacheControlDisabled(),
      asOnePlugin([noStorePlugin(), errorLoggingPlugin<SubgraphContext>(options.logger), metrics.plugin<SubgraphContext>(), textInputPlugin<SubgraphContext>(), ...limits.plugins]),
      // GraphQL's spans of a recorded request (parse, validate, the operation holding the root fields' spans).
      ...(tracingIsOn() ? [operationSpansPlugin<SubgraphContext>({ operation: true })] : []),
    ],
  });
  await apollo.start();

  const app = createExpressApp(mode);
  // Ready while its own database serves it: without it the subgraph can answer nothing.
  mountProbes(app, options.name, { database: options.databaseReady ?? databaseAnswers(options.orm.em) });
  options.routes?.(app);
  const internal = createExpressApp(mode);
  mountHealth(internal, options.name, { essential: { database: databaseAnswers(options.orm.em) }, wanted: options.wanted, details: options.health });
  options.metrics?.(metrics.registry);
  metrics.mount(internal);
  const identities = new IdentityVerifier(options.gatewayKey, statementAudience(options.name));
  const deps = { orm: options.orm, services: options.services, identities, permissionStore, logger: options.logger };
  // auth's /identity routes read JSON bodies with express.json.
  app.use(bodyErrorHandler());
  const service = graphqlEndpoint(apollo, {
    path: '/graphql',
    logger: options.logger,
    context: (req) => buildContext(deps, req.headers),
    otherwise: app,
  });
  const subscriptions = createSubscriptionServer({
    schema,
    identities,
    context: (headers) => buildContext(deps, headers),
    validationRules: limits.validationRules,
    parseOptions: limits.parseOptions,
    logger: options.logger,
    production: options.production === true,
  });
  return {
    app: service,
    internal,
    apollo,
    permissionStore,
    upgrade: (req, socket, head) => subscriptions.upgrade(req, socket, head),
    closeUpgrades: () => subscriptions.close(),
    stop: () => apollo.stop(),
  };
}
