import { isolateTestFile } from '../../testing/isolation';
import { sampleValue, samplesOf, scrapeMetrics } from '../../testing/metrics';
import { systemForFile } from '../system';

const env = isolateTestFile();
const system = systemForFile(env);

const REQUESTS = 'popug_graphql_requests_total';
const LATENCY_COUNT = 'popug_graphql_request_duration_seconds_count';

test('the gateway counts and times a named operation, its outcome and anonymous requests; a name outside the manifest is `other`', async () => {
  await system().login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  const refused = await system().request('query Directory { users { id } }');
  const refusedCode = refused.errors?.[0]?.extensions?.code;
  // Asked without a token: the directory wants a signed-in caller.
  expect(refusedCode).toBe('UNAUTHENTICATED');
  await system().request('{ __typename }');

  const text = await scrapeMetrics(system().services.gateway.internalUrl);
  expect(sampleValue(text, REQUESTS, { service: 'gateway', operation: 'Login', outcome: 'ok' })).toBe(1);
  expect(sampleValue(text, LATENCY_COUNT, { service: 'gateway', operation: 'Login', outcome: 'ok' })).toBe(1);
  const latencySum = sampleValue(text, 'popug_graphql_request_duration_seconds_sum', { service: 'gateway', operation: 'Login', outcome: 'ok' });
  expect(latencySum).toBeGreaterThan(0);
  // Not a trusted document's name (gateway/trusted-documents.json): no label of its own.
  expect(samplesOf(text, REQUESTS, { service: 'gateway', operation: 'Directory' })).toEqual([]);
  expect(sampleValue(text, REQUESTS, { service: 'gateway', operation: 'other', outcome: String(refusedCode) })).toBe(1);
  expect(sampleValue(text, REQUESTS, { service: 'gateway', operation: 'anonymous', outcome: 'ok' })).toBe(1);
  // Default process metrics come along, labelled with the service.
  expect(sampleValue(text, 'popug_process_resident_memory_bytes', { service: 'gateway' })).toBeGreaterThan(0);
});

test('a subgraph counts the operation the gateway sent it, under its own service label', async () => {
  await system().login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  const text = await scrapeMetrics(system().services.auth.internalUrl);
  const logins = samplesOf(text, REQUESTS, { service: 'auth', outcome: 'ok' }).filter((sample) => sample.labels.operation?.startsWith('Login'));
  expect(logins.reduce((sum, sample) => sum + sample.value, 0)).toBeGreaterThanOrEqual(1);
  const timed = samplesOf(text, LATENCY_COUNT, { service: 'auth' }).filter((sample) => sample.labels.operation?.startsWith('Login'));
  expect(timed.length).toBeGreaterThan(0);
  // Another subgraph's registry is its own.
  const tracker = await scrapeMetrics(system().services.tracker.internalUrl);
  expect(samplesOf(tracker, REQUESTS, { service: 'auth' })).toHaveLength(0);
  expect(sampleValue(tracker, 'popug_process_resident_memory_bytes', { service: 'tracker' })).toBeGreaterThan(0);
});
