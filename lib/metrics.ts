import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { Express } from 'express';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Every metric of ours starts with this; the default process metrics get it too. */
export const METRIC_PREFIX = 'popug_';
export const METRICS_PATH = '/metrics';

/** Operation names a client did not give, or that never resolved (parse or validation errors). */
export const ANONYMOUS_OPERATION = 'anonymous';
/** Every name not labelled as itself: a client inventing names cannot grow the series without bound. */
export const OTHER_OPERATION = 'other';

/** How an operation's name becomes its `operation` label. */
export interface OperationLabels {
  label(name: string | null | undefined): string;
}

/**
 * The gateway's labels: only the names of its trusted documents (gateway/trusted-documents.json)
 * are labels; any other name, such as that of a document production refuses, is `other`.
 */
export class TrustedOperationNames implements OperationLabels {
  private readonly names: ReadonlySet<string>;

  constructor(names: Iterable<string>) {
    this.names = new Set(names);
  }

  label(name: string | null | undefined): string {
    if (!name) return ANONYMOUS_OPERATION;
    return this.names.has(name) ? name : OTHER_OPERATION;
  }
}

/**
 * Keeps the `operation` label bounded: the first `cap` distinct names are kept as they are,
 * any later new name becomes `other`. GraphQL names are `[_A-Za-z][_0-9A-Za-z]*` already;
 * the length is capped as well.
 */
export class OperationNameLimiter implements OperationLabels {
  private readonly seen = new Set<string>();

  constructor(private readonly cap = 200) {}

  label(name: string | null | undefined): string {
    if (!name) return ANONYMOUS_OPERATION;
    const bounded = name.slice(0, 100);
    if (this.seen.has(bounded)) return bounded;
    if (this.seen.size >= this.cap) return OTHER_OPERATION;
    this.seen.add(bounded);
    return bounded;
  }
}

/** A service's own registry: default process metrics, every series labelled `service`. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  return registry;
}

/** Seconds; GraphQL calls here range from sub-millisecond cache hits to multi-second shuffles. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The GraphQL request series of a registry: a count and a latency histogram per operation and outcome. */
class GraphQLRequestSeries {
  private readonly requests: Counter<'operation' | 'outcome'>;
  private readonly duration: Histogram<'operation' | 'outcome'>;

  constructor(registry: Registry) {
    const labelNames = ['operation', 'outcome'] as const;
    this.requests = new Counter({
      name: `${METRIC_PREFIX}graphql_requests_total`,
      help: 'GraphQL requests by operation name and outcome (ok or the error code)',
      labelNames,
      registers: [registry],
    });
    this.duration = new Histogram({
      name: `${METRIC_PREFIX}graphql_request_duration_seconds`,
      help: 'GraphQL request latency by operation name and outcome',
      labelNames,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
  }

  observe(operation: string, outcome: string, seconds: number): void {
    const labels = { operation, outcome };
    this.requests.inc(labels);
    this.duration.observe(labels, seconds);
  }
}

/**
 * Counts GraphQL requests and times them per operation name and outcome: `ok`, or the
 * `extensions.code` of the first error the client got (after masking).
 */
export function graphqlMetricsPlugin<TContext extends BaseContext>(
  registry: Registry,
  names: OperationLabels = new OperationNameLimiter(),
): ApolloServerPlugin<TContext> {
  return metricsPlugin(new GraphQLRequestSeries(registry), names);
}

function metricsPlugin<TContext extends BaseContext>(series: GraphQLRequestSeries, names: OperationLabels): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      const startedAt = process.hrtime.bigint();
      return {
        async willSendResponse({ response, operationName }) {
          let outcome = 'ok';
          if (response.body.kind === 'single') {
            const [first] = response.body.singleResult.errors ?? [];
            if (first) outcome = String(first.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
          }
          // The name as resolved from the document: a request that never parsed stays anonymous.
          series.observe(names.label(operationName), outcome, Number(process.hrtime.bigint() - startedAt) / 1e9);
        },
      };
    },
  };
}

/** `GET /metrics` in Prometheus' text format, on a service's internal port (docs/observability.md "Metrics"). */
export function mountMetricsRoute(app: Express, registry: Registry): void {
  app.get(METRICS_PATH, async (_req, res) => {
    try {
      const body = await registry.metrics();
      res.set('content-type', registry.contentType).send(body);
    } catch {
      res.status(500).type('text/plain').send('metrics unavailable\n');
    }
  });
}

/** What a service needs to be scraped: its registry and the GraphQL plugin bound to it. */
export interface ServiceMetrics {
  registry: Registry;
  mount(app: Express): void;
  plugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext>;
  /**
   * Counts a request refused before Apollo saw it (lib/graphql-endpoint.ts `admit`): its
   * document was never parsed, so it is `anonymous` whatever name it gives, and it took no
   * GraphQL time (0 s).
   */
  refused(outcome: string): void;
}

/**
 * `names` decides the operation labels: by default the first 200 names seen (a subgraph sees
 * only the gateway's operations); the gateway passes its trusted documents' names.
 */
export function createServiceMetrics(service: string, names?: OperationLabels): ServiceMetrics {
  const registry = createMetricsRegistry(service);
  const series = new GraphQLRequestSeries(registry);
  const plugin = metricsPlugin<BaseContext>(series, names ?? new OperationNameLimiter());
  return {
    registry,
    mount: (app) => mountMetricsRoute(app, registry),
    plugin: <TContext extends BaseContext>() => plugin as ApolloServerPlugin<TContext>,
    refused: (outcome) => series.observe(ANONYMOUS_OPERATION, outcome, 0),
  };
}
