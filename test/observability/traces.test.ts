import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { isolateTestFile } from '@popug/testing/isolation';
import { hire, signInAdmin, TEST_PASSWORD, type TestUser } from '@popug/testing/people';
import type { TestSystem } from '@popug/testing/system';
import { waitFor } from '@popug/testing/wait';
import { REQUEST_ID_ATTRIBUTE } from '@popug/lib/tracing/request-id';
import { run } from '../../jobs/replicator/test/fixtures/processes';
import { startSystem } from '../system';
import { startGatewayProcess, startJobsProcess, startSubgraphProcess, type ServiceProcess } from '../faults/fixtures/jobs-process';
import { replicateUntilCaughtUp } from '../faults/invariants';

/**
 * OpenTelemetry (docs/observability.md "Traces"): the gateway, auth, tracker and the jobs worker as their
 * own processes, exporting OTLP/HTTP JSON to a receiver in this test. One createTask
 * through the gateway is one connected trace: the gateway's request, its identity call to
 * auth and its fetch from tracker, tracker's request, GraphQL operation and PostgreSQL
 * statements (the task row and its outbox row, which carries the trace context), then the
 * replicator's apply of those events in accounting and the fee row it inserts; the request
 * id on every span of the processes that serve the request. With the sampler production
 * runs (parentbased_traceidratio), each request is drawn once at the gateway and every
 * process keeps to that decision. SIGTERM flushes queued spans.
 */
const env = isolateTestFile();
let system: TestSystem;
let manager: TestUser;
let receiver: Server;
let endpoint: string;
const spans: Span[] = [];
const running: ServiceProcess[] = [];

interface Span {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  durationMs: number;
  attributes: Record<string, string>;
  links: { traceId: string; spanId: string }[];
}

interface OtlpExport {
  resourceSpans: {
    resource: { attributes: OtlpAttribute[] };
    scopeSpans: { spans: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; startTimeUnixNano: string; endTimeUnixNano: string; attributes: OtlpAttribute[]; links?: { traceId: string; spanId: string }[] }[] }[];
  }[];
}
type OtlpAttribute = { key: string; value: { stringValue?: string; intValue?: string | number; boolValue?: boolean } };

const attributesOf = (list: OtlpAttribute[]) => Object.fromEntries(list.map(({ key, value }) => [key, String(value.stringValue ?? value.intValue ?? value.boolValue ?? '')]));

/** An OTLP/HTTP JSON receiver: keeps every span it is sent. */
async function startReceiver(): Promise<void> {
  receiver = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const exported = JSON.parse(text) as OtlpExport;
      for (const resourceSpans of exported.resourceSpans) {
        const service = attributesOf(resourceSpans.resource.attributes)['service.name'] ?? '?';
        for (const span of resourceSpans.scopeSpans.flatMap((scope) => scope.spans)) {
          const durationMs = Number((BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)) / 1000n) / 1000;
          spans.push({ service, traceId: span.traceId, spanId: span.spanId, parentSpanId: span.parentSpanId || undefined, name: span.name, kind: span.kind, durationMs, attributes: attributesOf(span.attributes), links: (span.links ?? []).map(({ traceId, spanId }) => ({ traceId, spanId })) });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
}

/** OTLP's numbering of span kinds: the API's plus one. */
const OTLP_SERVER_KIND = 2;
const TRACING = { OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_TRACES_SAMPLER: 'always_on' };

beforeAll(async () => {
  await startReceiver();
  TRACING.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint;
  system = await startSystem(env);
  manager = await hire(system, (await signInAdmin(system, env)).token, TEST_PASSWORD, 'manager');
  await hire(system, (await signInAdmin(system, env)).token, TEST_PASSWORD, 'worker');
  await replicateUntilCaughtUp(env);
}, 90_000);
afterAll(async () => {
  for (const service of running) await service.stop();
  await system?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

/** The trace as an indented tree of `service: span name (duration)`, for failure messages and README. */
function printTree(trace: Span[]): string {
  const lines: string[] = [];
  const visit = (span: Span, depth: number) => {
    lines.push(`${'  '.repeat(depth)}${span.service}: ${span.name} (${span.durationMs.toFixed(2)} ms)`);
    for (const child of trace.filter((candidate) => candidate.parentSpanId === span.spanId)) visit(child, depth + 1);
  };
  for (const root of trace.filter((span) => !trace.some((parent) => parent.spanId === span.parentSpanId))) visit(root, 0);
  return lines.join('\n');
}

/** Sends one operation as the manager through `gateway` under `requestId`; it must answer without errors. */
async function askAsManager(gateway: ServiceProcess, requestId: string, query: string, headers: Record<string, string> = {}): Promise<void> {
  const response = await fetch(`${gateway.origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${manager.token}`, 'x-request-id': requestId, ...headers },
    body: JSON.stringify({ query }),
  });
  expect(response.status).toBe(200);
  expect(((await response.json()) as { errors?: unknown }).errors).toBeUndefined();
}

describe('traces', () => {
  it('one createTask through the gateway is one connected trace from the gateway to tracker\'s PostgreSQL statements', async () => {
    const traced = { ...process.env, ...TRACING };
    // One after the other: four processes starting at once on a busy machine miss their start-up deadline.
    const auth = await startSubgraphProcess('auth', { ...traced, OTEL_SERVICE_NAME: 'auth' });
    running.push(auth);
    const tracker = await startSubgraphProcess('tracker', { ...traced, OTEL_SERVICE_NAME: 'tracker' });
    running.push(tracker);
    running.push(await startJobsProcess({ ...traced, OTEL_SERVICE_NAME: 'jobs' }));
    const gateway = await startGatewayProcess({
      ...traced,
      AUTH_URL: `${auth.origin}/graphql`,
      TRACKER_URL: `${tracker.origin}/graphql`,
      ACCOUNTING_URL: system.env.ACCOUNTING_URL,
      ANALYTICS_URL: system.env.ANALYTICS_URL,
    });
    running.push(gateway);

    const requestId = `trace-${randomUUID()}`;
    await askAsManager(gateway, requestId, 'mutation CreateTask { createTask(title: "Traced task", description: "one trace") { id } }');

    const root = await waitFor(async () => spans.find((span) => span.service === 'gateway' && span.attributes[REQUEST_ID_ATTRIBUTE] === requestId && !span.parentSpanId), 30_000, 'the gateway span of the request');
    const inTrace = () => spans.filter((span) => span.traceId === root.traceId);
    const statementOf = (span: Span) => (span.attributes['db.statement'] ?? span.attributes['db.query.text'] ?? '').toLowerCase();
    const feeRow = (span: Span) => span.service === 'jobs' && /insert into "?transactions"?/.test(statementOf(span));
    const orphans = (trace: Span[]) => trace.filter((span) => span !== root && !trace.some((parent) => parent.spanId === span.parentSpanId)).map((span) => `${span.service}: ${span.name}`);
    // Spans arrive as each process exports them: wait for the fee row and for every parent of what came (or fail on the orphans below).
    const trace = await waitFor(async () => (inTrace().some(feeRow) && orphans(inTrace()).length === 0 ? inTrace() : undefined), 30_000, 'the fee row insert in the connected trace').catch(() => inTrace());
    mkdirSync('test-artifacts', { recursive: true });
    writeFileSync(join('test-artifacts', 'create-task-trace.txt'), `${printTree(trace)}\n`);

    // Connected: one root, every other span's parent is in the trace.
    expect(orphans(trace)).toEqual([]);
    expect(trace.some(feeRow)).toBe(true);
    expect(new Set(trace.map((span) => span.service))).toEqual(new Set(['gateway', 'auth', 'tracker', 'jobs']));
    // tracker's side: its GraphQL operation, its statements write the task and its outbox row.
    expect(trace.some((span) => span.service === 'tracker' && /insert into "?tasks"?/.test(statementOf(span)))).toBe(true);
    expect(trace.some((span) => span.service === 'tracker' && /insert into "?outbox"?/.test(statementOf(span)))).toBe(true);
    expect(trace.some((span) => span.service === 'tracker' && span.name.startsWith('graphql.'))).toBe(true);
    // The request id on every span of the processes serving the request, not only on their HTTP spans.
    expect(trace.filter((span) => span.service !== 'jobs' && span.attributes[REQUEST_ID_ATTRIBUTE] !== requestId).map((span) => `${span.service}: ${span.name}`)).toEqual([]);
    // The gateway's steps: the request, its execution and each fetch (its plan when one is made), the subgraph's request below its fetch;
    // validation and post-processing left out by the sampler; no client span repeating the fetch.
    const gatewaySteps = trace.filter((span) => span.service === 'gateway' && span.name.startsWith('gateway.')).map((span) => span.name);
    expect(gatewaySteps).toEqual(expect.arrayContaining(['gateway.request', 'gateway.execute', 'gateway.fetch']));
    expect(gatewaySteps.filter((name) => !['gateway.request', 'gateway.plan', 'gateway.execute', 'gateway.fetch'].includes(name))).toEqual([]);
    const trackerRequest = trace.find((span) => span.service === 'tracker' && span.kind === OTLP_SERVER_KIND);
    expect(trace.find((span) => span.spanId === trackerRequest?.parentSpanId)?.name).toBe('gateway.fetch');
    // The replicator's apply in accounting is in the trace, and the fee row is its statement.
    const apply = trace.find((span) => span.service === 'jobs' && span.name === 'replicate apply accounting');
    expect(apply).toBeDefined();
    const ancestors = (span: Span): Span[] => {
      const parent = trace.find((candidate) => candidate.spanId === span.parentSpanId);
      return parent ? [parent, ...ancestors(parent)] : [];
    };
    expect(trace.filter(feeRow).some((span) => ancestors(span).includes(apply as Span))).toBe(true);
    // The root field's resolver span holds the statements that write the task.
    const resolveCreateTask = trace.find((span) => span.service === 'tracker' && span.name === 'graphql.resolve createTask');
    expect(resolveCreateTask?.attributes['graphql.field.name']).toBe('createTask');
    expect(trace.some((span) => /insert into "?tasks"?/.test(statementOf(span)) && ancestors(span).includes(resolveCreateTask as Span))).toBe(true);
    expect(ancestors(apply as Span).some((span) => span.service === 'tracker')).toBe(true);
    // Each replication pass is a trace of its own (not one trace growing for the worker's life), the root
    // `replication pass` linked to the traces of the events it carried: this request's among them.
    const linksTheRequest = (span: Span) => span.service === 'jobs' && span.name === 'replication pass' && span.links.some((link) => link.traceId === root.traceId);
    await waitFor(async () => spans.find(linksTheRequest), 30_000, 'the replication pass linked to the request');
    const passes = spans.filter((span) => span.service === 'jobs' && span.name === 'replication pass');
    expect(passes.filter((span) => span.parentSpanId).map((span) => span.traceId)).toEqual([]);
    expect(new Set(passes.map((span) => span.traceId)).size).toBe(passes.length);
    expect(trace.some((span) => span.name === 'replication pass')).toBe(false);
    expect(apply?.links.some((link) => passes.some((pass) => pass.spanId === link.spanId))).toBe(true);
    // BullMQ's own span of each pass's job starts a trace of its own too: the scheduler's jobs carry no context.
    const jobs = spans.filter((span) => span.service === 'jobs' && span.name === 'process replication');
    expect(jobs.length).toBeGreaterThan(1);
    expect(new Set(jobs.map((span) => span.traceId)).size).toBe(jobs.length);
  }, 300_000);

  it('with the sampled configuration production runs, draws each request once at the gateway and keeps every process to that decision', async () => {
    // Production's sampler (docs/observability.md) is parentbased_traceidratio at 0.1; at 0.5 a few dozen requests
    // show both outcomes for certain (all of 24 on one side: 2 × 0.5^24, about one run in eight million).
    const sampled = { ...process.env, ...TRACING, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5' };
    const started: ServiceProcess[] = [];
    const stopAll = async () => {
      for (const service of started.splice(0)) await service.stop();
    };
    try {
      const auth = await startSubgraphProcess('auth', { ...sampled, OTEL_SERVICE_NAME: 'auth-sampled' });
      started.push(auth);
      const tracker = await startSubgraphProcess('tracker', { ...sampled, OTEL_SERVICE_NAME: 'tracker-sampled' });
      started.push(tracker);
      const gateway = await startGatewayProcess({
        ...sampled,
        OTEL_SERVICE_NAME: 'gateway-sampled',
        AUTH_URL: `${auth.origin}/graphql`,
        TRACKER_URL: `${tracker.origin}/graphql`,
        ACCOUNTING_URL: system.env.ACCOUNTING_URL,
        ANALYTICS_URL: system.env.ANALYTICS_URL,
      });
      started.push(gateway);

      const requestIds: string[] = [];
      for (let sent = 0; sent < 24; sent += 1) {
        const requestId = `sampled-${sent}-${randomUUID()}`;
        requestIds.push(requestId);
        await askAsManager(gateway, requestId, 'query MyTasks { myTasks { id } }');
      }
      // SIGTERM flushes every queued span: after it, a span not received was never made.
      await stopAll();

      const ours = spans.filter((span) => span.service.endsWith('-sampled'));
      const servicesOf = (requestId: string) => [...new Set(ours.filter((span) => span.attributes[REQUEST_ID_ATTRIBUTE] === requestId).map((span) => span.service))].sort();
      const drawn = requestIds.filter((requestId) => ours.some((span) => span.service === 'gateway-sampled' && !span.parentSpanId && span.attributes[REQUEST_ID_ATTRIBUTE] === requestId));
      // Both outcomes of the draw happened.
      expect(drawn.length).toBeGreaterThan(0);
      expect(drawn.length).toBeLessThan(requestIds.length);
      // A request not drawn left no span in any process: tracker followed the gateway's unsampled traceparent instead of drawing again.
      expect(requestIds.filter((requestId) => !drawn.includes(requestId)).map((requestId) => ({ requestId, services: servicesOf(requestId) })).filter(({ services }) => services.length > 0)).toEqual([]);
      // A drawn request is one connected trace through the gateway and tracker.
      for (const requestId of drawn) {
        const root = ours.find((span) => span.service === 'gateway-sampled' && !span.parentSpanId && span.attributes[REQUEST_ID_ATTRIBUTE] === requestId) as Span;
        const trace = ours.filter((span) => span.traceId === root.traceId);
        expect({ requestId, services: [...new Set(trace.map((span) => span.service))].filter((service) => service !== 'auth-sampled').sort() }).toEqual({ requestId, services: ['gateway-sampled', 'tracker-sampled'] });
        expect({ requestId, orphans: trace.filter((span) => span !== root && !trace.some((parent) => parent.spanId === span.parentSpanId)).map((span) => `${span.service}: ${span.name}`) }).toEqual({ requestId, orphans: [] });
        expect({ requestId, outside: ours.filter((span) => span.attributes[REQUEST_ID_ATTRIBUTE] === requestId && span.traceId !== root.traceId).map((span) => `${span.service}: ${span.name}`) }).toEqual({ requestId, outside: [] });
      }
    } finally {
      await stopAll();
    }
  }, 300_000);

  it('at the gateway, an outside client\'s sampled traceparent records nothing: the gateway draws itself; a caller in TRACE_TRUSTED_PARENTS is followed', async () => {
    // Nothing drawn at the gateway (always_off): a span can come only from following the client's decision.
    const edgeEnv = { ...process.env, ...TRACING, OTEL_TRACES_SAMPLER: 'parentbased_always_off', AUTH_URL: system.env.AUTH_URL, TRACKER_URL: system.env.TRACKER_URL, ACCOUNTING_URL: system.env.ACCOUNTING_URL, ANALYTICS_URL: system.env.ANALYTICS_URL };
    const started: ServiceProcess[] = [];
    const clientTrace = (sent: number) => `${randomUUID().replaceAll('-', '').slice(0, 24)}${String(sent).padStart(8, '0')}`;
    try {
      const outside = await startGatewayProcess({ ...edgeEnv, OTEL_SERVICE_NAME: 'gateway-outside', TRACE_TRUSTED_PARENTS: '' });
      started.push(outside);
      const known = await startGatewayProcess({ ...edgeEnv, OTEL_SERVICE_NAME: 'gateway-known', TRACE_TRUSTED_PARENTS: '127.0.0.1, ::1' });
      started.push(known);
      const forced = Array.from({ length: 10 }, (_, sent) => clientTrace(sent));
      for (const traceId of forced) await askAsManager(outside, `forced-${traceId}`, 'query MyTasks { myTasks { id } }', { traceparent: `00-${traceId}-b7ad6b7169203331-01` });
      const followed = clientTrace(99);
      await askAsManager(known, `followed-${followed}`, 'query MyTasks { myTasks { id } }', { traceparent: `00-${followed}-b7ad6b7169203331-01` });
      // SIGTERM flushes every queued span: after it, a span not received was never made.
      for (const service of started.splice(0)) await service.stop();

      expect(spans.filter((span) => span.service === 'gateway-outside').map((span) => `${span.name} ${span.traceId}`)).toEqual([]);
      const root = spans.find((span) => span.service === 'gateway-known' && span.kind === OTLP_SERVER_KIND);
      expect(root).toMatchObject({ traceId: followed, parentSpanId: 'b7ad6b7169203331' });
    } finally {
      for (const service of started.splice(0)) await service.stop();
    }
  }, 300_000);

  it('flushes the spans still queued when the process is stopped with SIGTERM', async () => {
    // Batches are exported every 10 minutes: the only way out before the test ends is the flush on shutdown.
    const tracker = await startSubgraphProcess('tracker', { ...process.env, ...TRACING, OTEL_BSP_SCHEDULE_DELAY: '600000', OTEL_SERVICE_NAME: 'tracker-flushed' });
    const requestId = `flush-${randomUUID()}`;
    const response = await fetch(`${tracker.origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(response.status).toBe(401); // no gateway statement: refused, but traced
    expect((await fetch(tracker.healthUrl)).status).toBe(200);
    const exported = () => spans.some((span) => span.service === 'tracker-flushed' && span.attributes[REQUEST_ID_ATTRIBUTE] === requestId);
    expect(exported()).toBe(false);
    await tracker.stop();
    expect(tracker.run.child.exitCode).toBe(0);
    expect(exported()).toBe(true);
    // A probe is no trace at all.
    expect(spans.filter((span) => span.service === 'tracker-flushed' && Object.values(span.attributes).some((value) => value.includes('/health'))).map((span) => span.name)).toEqual([]);
  }, 180_000);

  it('is off when no OTLP endpoint is set: the SDK is not even loaded', async () => {
    const probe = "require('./lib/tracing/start'); process.stdout.write(String(Object.keys(require.cache).some((file) => file.includes('@opentelemetry/sdk-trace/'))))";
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    const off = run(process.execPath, ['--import', 'tsx', '-e', probe], env);
    const on = run(process.execPath, ['--import', 'tsx', '-e', probe], { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
    await Promise.all([off.exited, on.exited]);
    expect({ off: off.output().trim(), on: on.output().trim() }).toEqual({ off: 'false', on: 'true' });
  });
});
