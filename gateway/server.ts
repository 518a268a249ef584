import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage, RequestListener, ServerOptions } from 'node:http';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { createExpressApp } from '@popug/lib/express-app';
import { serviceUrls, type Env } from '@popug/lib/env';
import { errorLoggingPlugin, maskError } from '@popug/lib/graphql-errors';
import { mountHealth, mountProbes, runChecks } from '@popug/lib/health';
import { redisServes, reportRedisAccess } from '@popug/lib/redis-access';
import { loadPrivateKey } from '@popug/lib/keys';
import type { Logger } from '@popug/lib/logger';
import { createServiceMetrics, METRIC_PREFIX, TrustedOperationNames } from '@popug/lib/metrics';
import { Counter, Gauge } from 'prom-client';
import { graphqlEndpoint } from '@popug/lib/graphql-endpoint';
import { GATEWAY_QUERY_LIMITS, queryLimitProtection } from '@popug/lib/graphql-limits';
import { logConnectionErrors } from '@popug/lib/connection-errors';
import { createRedis } from '@popug/lib/queues';
import { textInputPlugin } from '@popug/lib/text-input';
import { browserSessionPlugin, mountBrowserSessions } from './browser-session';
import { buildGatewayContext, type GatewayContext } from './context';
import { IdentityClient } from './identity-client';
import { IdentitySigner } from './identity-signer';
import { mountLandingPage } from './landing/landing-page';
import { subgraphRoundTrips } from './subgraph-state';
import { loadTrustedDocuments } from './trusted-documents';
import { createSubgraphAgent, createSubgraphCaller } from './subgraph-calls';
import { SubgraphSource } from './subgraph-source';
import { asOnePlugin } from '@popug/lib/one-plugin';
import { tracingIsOn } from '@popug/lib/tracing/active';
import type { ParentTrust } from '@popug/lib/tracing/server-span';
import { operationSpansPlugin } from '@popug/lib/tracing/operation-spans';
import { SingleFetchGateway } from './single-fetch-gateway';
import { mountWebApp } from './web-app';
import { trustProxy } from '@popug/lib/trust-proxy';
import { SignInThrottle, clientAddress, signInLimits } from './sign-in-throttle';
import { MutationLimiter, mutationLimits } from './mutation-limits';
import { traceParentTrust } from './trace-parents';
import { FederatedSubscriptions } from './subscriptions/federated-subscriptions';
import { SubscriptionPlans } from './subscriptions/plans';
import { SessionWatch } from './subscriptions/session-watch';
import { eventStreamPath, eventStreamTakeover } from './subscriptions/stream-takeover';
import { subscriptionTransports } from './subscriptions/transports';
import { UpstreamClients } from './subscriptions/upstream';

export const SUPERGRAPH_FILE = join(__dirname, 'supergraph.graphql');
type SubgraphName = keyof ReturnType<typeof serviceUrls>;

export interface GatewayServer {
  /** The public port: GraphQL on /graphql, the pages and web app, /live and /ready. */
  app: RequestListener;
  /** The internal port: /health (each subgraph's state as the gateway sees it) and /metrics. */
  internal: RequestListener;
  /** The edge: only these callers' `traceparent` decides a request's trace (./trace-parents.ts). */
  trustsTraceParent: ParentTrust;
  /** GraphQL over WebSocket (subscriptions) at /graphql, and the event streams Node hands over (subscriptions/stream-takeover.ts). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Node's options for the public server: which requests reach `upgrade`. */
  serverOptions: ServerOptions;
  /** SIGTERM, first: subscription streams complete (SSE) or close with 1001 (WebSocket), then the sockets to subgraphs close. */
  closeUpgrades(): Promise<void>;
  close(): Promise<void>;
}

export interface GatewayOptions {
  /** The Node version the event-stream takeover is decided on (./subscriptions/stream-takeover.ts): this process's, unless a test says otherwise. */
  nodeVersion?: string;
}

/** Builds the gateway over the committed supergraph, without listening. */
export async function createGateway(env: Env, logger: Logger, { nodeVersion = process.versions.node }: GatewayOptions = {}): Promise<GatewayServer> {
  const urls = serviceUrls(env);
  // Keep-alive, bounded connections to the subgraphs and auth (docs/performance.md "Performance").
  const subgraphAgent = createSubgraphAgent();
  const callSubgraph = createSubgraphCaller(subgraphAgent);
  // Each fetch carries its parsed document, so a subgraph call knows its operation kind
  // (only queries share a call in flight: subgraph-calls.ts) without reading the JSON text.
  const supergraphSdl = readFileSync(SUPERGRAPH_FILE, 'utf8');
  const queryPlannerConfig = { exposeDocumentNodeInFetchNode: true };
  // A one-fetch plan that selects what the client asked: the subgraph's data is the answer.
  const gateway = new SingleFetchGateway(
    queryPlannerConfig,
    (wrap) =>
      new ApolloGateway({
        supergraphSdl,
        buildService: ({ name }) => wrap(name, new SubgraphSource(name, urls[name as SubgraphName], callSubgraph)),
        // Query plans are cached by operation text: 30 MiB holds thousands of plans (the default, stated).
        experimental_approximateQueryPlanStoreMiB: 30,
        queryPlannerConfig,
        logger,
        // Apollo Gateway reads process.env.NODE_ENV for these two; ours decides. The committed
        // supergraph is checked by the composition tests, so production skips validating it at start;
        // a query plan is internal, shown to no client whatever its headers.
        validateSupergraph: env.NODE_ENV !== 'production',
        __exposeQueryPlanExperimental: false,
      }),
  );
  const limits = queryLimitProtection<GatewayContext>(GATEWAY_QUERY_LIMITS, { hideSchema: env.NODE_ENV === 'production' });
  const redis = logConnectionErrors(createRedis(env, 'producer'), logger, 'sign-in throttle Redis');
  reportRedisAccess(redis, env.QUEUE_PREFIX, 'gateway', logger);
  const throttle = new SignInThrottle(redis, env.QUEUE_PREFIX, signInLimits(env));
  const mutationLimiter = new MutationLimiter(redis, env.QUEUE_PREFIX, mutationLimits(env));
  const trusted = loadTrustedDocuments(env, logger);
  const identities = new IdentityClient(urls.auth.replace(/\/graphql$/, '/identity'), env.IDENTITY_CACHE_MS, undefined, subgraphAgent);
  // Operation labels: the trusted documents' names only, so no client can mint a series.
  const metrics = createServiceMetrics('gateway', new TrustedOperationNames(trusted.operationNames));
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    // Every default Apollo Server derives from NODE_ENV comes from our setting, never process.env.
    nodeEnv: env.NODE_ENV,
    formatError: maskError,
    includeStacktraceInErrorResponses: false,
    // SIGTERM is ours (lib/lifecycle.ts): Apollo's own handler, on unless NODE_ENV is "test", re-raised
    // the signal a few ms into our drain and killed the requests in flight (exit 143).
    stopOnTerminationSignals: false,
    introspection: env.NODE_ENV !== 'production',
    csrfPrevention: true,
    // Operation ids from the trusted-documents manifest (docs/security.md "Trusted documents").
    persistedQueries: { cache: trusted.cache, ttl: null },
    validationRules: limits.validationRules,
    parseOptions: limits.parseOptions,
    // No HTTP caching of GraphQL answers here: skip computing a cache policy per response.
    plugins: [
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginLandingPageDisabled(),
      // Not a subgraph: no inline traces to add.
      ApolloServerPluginInlineTraceDisabled(),
      // Query limits, sign-in throttling and per-user limits (docs/security.md "Security"), browser sessions ("Sessions") and trusted documents among them.
      asOnePlugin([errorLoggingPlugin<GatewayContext>(logger), metrics.plugin<GatewayContext>(), textInputPlugin<GatewayContext>(), ...limits.plugins, throttle.plugin<GatewayContext>(logger), mutationLimiter.plugin<GatewayContext>(logger), browserSessionPlugin(identities, env.REFRESH_TTL_SECONDS), ...(trusted.plugin ? [trusted.plugin] : [])]),
      // A recorded request's parse and validate spans; its execution is Apollo Gateway's own `gateway.request`.
      ...(tracingIsOn() ? [operationSpansPlugin<GatewayContext>({ operation: false })] : []),
    ],
  });
  await apollo.start();

  const gatewayKey = loadPrivateKey(env, 'gateway');
  const signer = new IdentitySigner(gatewayKey);
  const streamEnds = new Counter({
    name: `${METRIC_PREFIX}subscription_ends_total`,
    help: 'Subscriptions ended, by how: the code of the last event, complete, or client_left',
    labelNames: ['outcome'],
    registers: [metrics.registry],
  });
  // Subscriptions (docs/architecture.md "Subscriptions (gateway side)"): planned over the same supergraph with the same planner options.
  const subscriptions = new FederatedSubscriptions({
    plans: new SubscriptionPlans(supergraphSdl, queryPlannerConfig),
    sources: Object.fromEntries(Object.entries(urls).map(([name, url]) => [name, new SubgraphSource(name, url, callSubgraph)])),
    urls,
    identities,
    signer,
    upstream: new UpstreamClients(gatewayKey, logger.child({ component: 'subscriptions' })),
    watch: new SessionWatch(urls.auth.replace(/\/graphql$/, '/identity/sessions'), gatewayKey, env.SUBSCRIPTION_SESSION_CHECK_MS, logger.child({ component: 'session-watch' }), subgraphAgent),
    limits: { perUser: env.SUBSCRIPTIONS_PER_USER, perConnection: env.SUBSCRIPTIONS_PER_CONNECTION },
    validationRules: limits.validationRules,
    parseOptions: limits.parseOptions,
    logger: logger.child({ component: 'subscriptions' }),
    ended: (outcome) => streamEnds.inc({ outcome }),
  });
  new Gauge({
    name: `${METRIC_PREFIX}live_subscriptions`,
    help: 'Live subscriptions (SSE and WebSocket) this gateway process serves',
    registers: [metrics.registry],
    collect() {
      this.set(subscriptions.size);
    },
  });
  const streams = subscriptionTransports(subscriptions, trusted, '/graphql', env.NODE_ENV === 'production', logger);
  // Event streams leave Node's HTTP server once their headers are read: an idle one holds a socket, not a request (docs/performance.md "Live updates").
  // Only on the Node major that was verified (docs/dependency-patches.md); elsewhere they are answered through Node's response.
  const streamPath = eventStreamPath(nodeVersion);
  const takeover = streamPath.takeover ? eventStreamTakeover('/graphql') : undefined;
  logger.info({ eventStreams: takeover ? 'takeover' : 'response', reason: streamPath.reason }, takeover ? 'event streams leave the HTTP server once their headers are read' : 'event streams are answered through the HTTP server');
  const app = createExpressApp(env.NODE_ENV);
  // Ready while it can serve: a subgraph or Redis down costs the requests that need it
  // (partial answers; sign-in throttling fails open), not every gateway pod's place in its Service.
  mountProbes(app, 'gateway', {
    supergraph: async () => {
      if (!gateway.loaded) throw new Error('the supergraph is not loaded');
    },
    signing: () => signer.assertCanSign(),
  });
  const internal = createExpressApp(env.NODE_ENV);
  const subgraphStates = subgraphRoundTrips(urls, callSubgraph);
  mountHealth(internal, 'gateway', {
    essential: {},
    wanted: { redis: redisServes(redis, env.QUEUE_PREFIX, 'gateway') },
    details: async () => {
      const subgraphs = await runChecks(subgraphStates);
      return { degraded: Object.values(subgraphs).includes('down'), details: { subgraphs } };
    },
  });
  metrics.mount(internal);
  const trust = trustProxy(env.TRUST_PROXY);
  const contextFor = async (req: IncomingMessage, headers: IncomingHttpHeaders = req.headers) => {
    const context = await buildGatewayContext(headers, identities, signer);
    // Only the throttles read the client's address: worked out when asked (proxy-addr
    // parses the forwarding chain), not for every request. A function, not a getter: Apollo
    // copies the context per request with Object.assign, which would call a getter.
    context.clientAddress = () => clientAddress(req, trust);
    return context;
  };
  mountLandingPage(app, { graphqlPath: '/graphql', playground: env.NODE_ENV !== 'production' });
  // Before the web app, whose pages answer every other path.
  mountBrowserSessions(app, apollo, trusted, (req, token) => contextFor(req, { ...req.headers, authorization: token ? `Bearer ${token}` : undefined }), logger);
  await mountWebApp(app, logger, env.NODE_ENV === 'production' ? 'prebuilt' : 'on-demand');
  const service = graphqlEndpoint(apollo, {
    path: '/graphql',
    logger,
    // Trusted documents: an unknown one is refused before it is parsed, and before any identity work.
    admit: (request) => {
      const refusal = trusted.admit(request);
      if (refusal) metrics.refused(refusal.code);
      return refusal;
    },
    context: (req) => contextFor(req),
    otherwise: app,
    eventStream: streams.eventStream,
  });
  let streamsClosed: Promise<void> | undefined;
  const closeStreams = () => (streamsClosed ??= streams.close().then(() => subscriptions.close()));
  return {
    app: service,
    internal,
    trustsTraceParent: traceParentTrust(env.TRACE_TRUSTED_PARENTS, trust),
    upgrade(req, socket, head) {
      if (takeover?.isEventStream(req)) {
        streams.takenEventStream(req, socket).catch((error: unknown) => {
          logger.error({ err: error }, 'an event stream failed');
          socket.destroy();
        });
        return;
      }
      streams.upgrade(req, socket, head);
    },
    serverOptions: takeover?.serverOptions ?? {},
    closeUpgrades: closeStreams,
    async close() {
      await closeStreams();
      await apollo.stop();
      redis.disconnect();
      await subgraphAgent.close();
    },
  };
}
