import { z } from 'zod';
import { addressListProblem, trustProxyProblem } from './trust-proxy';
import { DOCUMENTED_ADMIN_PASSWORD, secretProblems, type ServiceName } from './service-secrets';

/**
 * The one place that reads process.env. Every service calls `loadEnv(<its name>)` once at
 * start; a bad value prints every problem and stops the process before anything listens.
 * In production each service is asked for exactly the secrets it uses (lib/service-secrets.ts).
 */
const LOOPBACK = '127.0.0.1';

const intFromEnv = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/**
 * Kubernetes gives a pod `<SERVICE>_PORT=tcp://<ip>:<port>` for each Service while service links
 * are on (its default), and our port settings have those very names: say so instead of "NaN".
 * The names stay, so existing deployments keep working; deploy/k8s turns the links off.
 */
const SERVICE_LINK = /^tcp:\/\//i;
const portFromEnv = (fallback: number) =>
  z.coerce
    .string()
    .refine((value) => !SERVICE_LINK.test(value.trim()), {
      message: 'holds a Kubernetes service link (tcp://…), not a port number: set `enableServiceLinks: false` in the pod spec (deploy/k8s does) or give the port explicitly',
      abort: true,
    })
    .pipe(z.coerce.number<string>().int().positive())
    .default(fallback);

export const envSchema = z.object({
  /** Two modes, no third: tests run production (or ask for development), so no value switches test-only behaviour. */
  NODE_ENV: z.enum(['development', 'production'], { error: 'development or production (there is no test mode: tests run production)' }).default('development'),
  DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432'),
  /**
   * The migrate step only (docs/operations.md "Database roles"): a role that may create roles
   * and databases (CREATEDB and CREATEROLE, or a superuser). When set, the step creates each
   * service's roles and databases, migrates as the owner roles and grants the data roles.
   */
  DATABASE_ADMIN_URL: z.string().url().optional(),
  /** The migrate step only, with DATABASE_ADMIN_URL: each service's own DATABASE_URL, whose user and password it provisions. */
  AUTH_DATABASE_URL: z.string().url().optional(),
  TRACKER_DATABASE_URL: z.string().url().optional(),
  ACCOUNTING_DATABASE_URL: z.string().url().optional(),
  ANALYTICS_DATABASE_URL: z.string().url().optional(),
  JOBS_DATABASE_URL: z.string().url().optional(),
  DB_PREFIX: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,40}$/, 'lower-case letters, digits and underscores, at most 41 characters')
    .default('popug_'),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, "_" and "-"').default('popug'),
  PORT: portFromEnv(4000),
  /**
   * Where every service listens. Loopback by default: the subgraphs and the jobs worker
   * are internal, reached only through the gateway; containers set it explicitly.
   */
  HOST: z.string().default(LOOPBACK),
  AUTH_PORT: portFromEnv(4001),
  TRACKER_PORT: portFromEnv(4002),
  ACCOUNTING_PORT: portFromEnv(4003),
  ANALYTICS_PORT: portFromEnv(4004),
  AUTH_URL: z.string().url().optional(),
  TRACKER_URL: z.string().url().optional(),
  ACCOUNTING_URL: z.string().url().optional(),
  ANALYTICS_URL: z.string().url().optional(),
  SMTP_URL: z.string().url().optional(),
  MAIL_FROM: z.string().email().default('noreply@uberpopug.test'),
  MAIL_DIR: z.string().default('var/mail'),
  ADMIN_EMAIL: z.string().email().default('admin@uberpopug.test'),
  ADMIN_PASSWORD: z.string().min(8).default(DOCUMENTED_ADMIN_PASSWORD),
  ADMIN_NAME: z.string().min(1).default('Chief Popug'),
  /** The fallback period of replication passes: a commit to a source's outbox wakes a pass at once (REPLICATION_WAKE). */
  REPLICATION_INTERVAL_MS: intFromEnv(1000),
  /** jobs: LISTEN on each source's outbox and run a pass as soon as a row commits; false leaves passes to the interval alone. */
  REPLICATION_WAKE: z
    .enum(['true', 'false'])
    .default('true')
    .transform((value) => value === 'true'),
  /** jobs: how long a wake waits for more commits before its pass starts, so a burst of commits shares one pass. */
  REPLICATION_WAKE_DEBOUNCE_MS: z.coerce.number().int().min(0).max(1000).default(5),
  /** Events per transaction when collecting and applying. */
  REPLICATION_BATCH_SIZE: intFromEnv(5000),
  /** Failed passes in a row before a replica's incident is declared and admins are mailed. */
  REPLICA_ALERT_AFTER_FAILURES: intFromEnv(3),
  /** The jobs worker's /live and /ready. */
  JOBS_PORT: portFromEnv(4005),
  /**
   * Each process's internal port (docs/operations.md "Internal port"): /health, /metrics and,
   * on the jobs worker, the queue board; never the public port. One name per process, so
   * `npm start` (every service in one process) runs them side by side; 94xx mirrors 40xx.
   * No Kubernetes Service is named `<service>-internal`, so service links never inject these names.
   */
  GATEWAY_INTERNAL_PORT: portFromEnv(9400),
  AUTH_INTERNAL_PORT: portFromEnv(9401),
  TRACKER_INTERNAL_PORT: portFromEnv(9402),
  ACCOUNTING_INTERNAL_PORT: portFromEnv(9403),
  ANALYTICS_INTERNAL_PORT: portFromEnv(9404),
  JOBS_INTERNAL_PORT: portFromEnv(9405),
  BUSINESS_TZ: z
    .string()
    .default('UTC')
    .refine((zone) => isKnownTimeZone(zone), 'an IANA time zone such as UTC or Europe/Berlin'),
  /** Where generated dev keys live when no key is given in the environment. */
  KEYS_DIR: z.string().default('var/keys'),
  /** PKCS#8 PEM of auth's Ed25519 key that signs user tokens. */
  AUTH_PRIVATE_KEY: z.string().optional(),
  AUTH_PUBLIC_KEY: z.string().optional(),
  /** PKCS#8 PEM of the gateway's Ed25519 key that signs forwarded identities. */
  GATEWAY_PRIVATE_KEY: z.string().optional(),
  GATEWAY_PUBLIC_KEY: z.string().optional(),
  /**
   * auth: how long an access token lives. At most 15 minutes (docs/security.md "Sessions"): a
   * stolen one is good only until then, and a role or session change needs no revocation list.
   */
  TOKEN_TTL_SECONDS: intFromEnv(900).pipe(z.number().max(900, 'at most 900 (15 minutes): longer sessions come from refresh tokens')),
  /**
   * auth: how long a session lasts unused. Every refresh rotates its token and starts this
   * again, so someone at work every day stays signed in; a device left two weeks signs in again.
   */
  REFRESH_TTL_SECONDS: intFromEnv(14 * 24 * 60 * 60),
  /** auth: password-reset mails per account per hour, over which more requests are answered alike but mail nothing. */
  PASSWORD_RESET_MAILS_PER_HOUR: intFromEnv(3),
  /** auth: the web app's public address, for links in mail (the reset link); unset, http://localhost:<PORT>. */
  PUBLIC_URL: z.string().url().optional(),
  /** How long the gateway trusts a resolved caller before asking auth again; must stay under 5 s. */
  IDENTITY_CACHE_MS: z.coerce.number().int().min(0).max(4000).default(2000),
  /** Live subscriptions (GraphQL over SSE and WebSocket) one user may hold on one gateway process; more are refused RATE_LIMITED. */
  SUBSCRIPTIONS_PER_USER: intFromEnv(20),
  /** Live subscriptions on one WebSocket connection; more are refused RATE_LIMITED. */
  /**
   * Tracker: the period of the inactive-assignees sweep, which repairs what a missed
   * notification or a crash left (open tasks on a deactivated popug); a directory change
   * wakes it at once (docs/architecture.md "Tracker rules").
   */
  INACTIVE_ASSIGNEES_SWEEP_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  SUBSCRIPTIONS_PER_CONNECTION: intFromEnv(10),
  /** How often the gateway re-checks the sessions of live subscriptions with auth (at most 4 s: logout ends a stream within 5 s). */
  SUBSCRIPTION_SESSION_CHECK_MS: z.coerce.number().int().min(100).max(4000).default(3000),
  /** How long a process trusts its cached role permissions; must stay under 5 s. */
  PERMISSION_CACHE_MS: z.coerce.number().int().min(0).max(4000).default(2000),
  /**
   * Subgraphs: events one subscription may have waiting to be sent; past it the subscription
   * ends with SLOW_CONSUMER instead of buffering without bound (docs/architecture.md
   * "Subscriptions"). Room for a 10 000-task shuffle seen by a task:view_all subscriber.
   */
  SUBSCRIPTION_QUEUE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(20_000),
  /**
   * Gateway: login attempts per (client address, email) pair, per client address, and per
   * email from any address, per minute; over any of them a login is refused (docs/security.md
   * "Sign-in throttling"). The email's window is a minute, so its owner waits at most that long
   * after a flood stops.
   */
  RATE_LIMIT_LOGIN_PAIR_PER_MIN: intFromEnv(10),
  RATE_LIMIT_LOGIN_IP_PER_MIN: intFromEnv(100),
  RATE_LIMIT_LOGIN_EMAIL_PER_MIN: intFromEnv(6),
  /** How long a login holds its email (one at a time) should its end never be seen: above auth's longest argon2 wait. */
  LOGIN_IN_FLIGHT_MAX_MS: intFromEnv(15_000),
  /** Gateway: registrations per client address per hour, and from all addresses together per hour (never per email). */
  RATE_LIMIT_REGISTER_IP_PER_HOUR: intFromEnv(20),
  RATE_LIMIT_REGISTER_PER_HOUR: intFromEnv(200),
  /** Gateway: mutations per signed-in user (per client address when anonymous), docs/security.md "Per-user limits". */
  RATE_LIMIT_CREATE_TASK_PER_MIN: intFromEnv(10),
  RATE_LIMIT_COMPLETE_TASK_PER_MIN: intFromEnv(30),
  RATE_LIMIT_SHUFFLE_TASKS_PER_MIN: intFromEnv(2),
  RATE_LIMIT_CHANGE_PASSWORD_PER_HOUR: intFromEnv(10),
  RATE_LIMIT_PASSWORD_RESET_PER_HOUR: intFromEnv(10),
  RATE_LIMIT_REFRESH_SESSION_PER_MIN: intFromEnv(60),
  /**
   * Express `trust proxy` for the gateway: the load balancers' own addresses. Unset trusts no
   * proxy (the socket address is the client); production refuses `true` and whole private ranges.
   */
  TRUST_PROXY: z
    .string()
    .optional()
    .superRefine((value, context) => {
      const problem = value === undefined ? undefined : trustProxyProblem(value, false);
      if (problem) context.addIssue({ code: 'custom', message: problem });
    }),
  /**
   * Gateway: callers whose `traceparent` (sampled or not) decides a request's trace, as
   * addresses and subnets ("10.1.2.3, 10.8.0.0/16"), matched against the client address
   * (behind TRUST_PROXY). Unset: none; the gateway draws every outside request itself.
   */
  TRACE_TRUSTED_PARENTS: z
    .string()
    .default('')
    .superRefine((value, context) => {
      const problem = addressListProblem(value);
      if (problem) context.addIssue({ code: 'custom', message: `not ${problem}` });
    }),
  /** Gateway, NODE_ENV=production: also run operations that are not in the trusted-documents manifest (an admin's switch). */
  ALLOW_ARBITRARY_OPERATIONS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
  /** auth: argon2 hashes/verifications at once per process; more wait in a bounded queue. */
  ARGON2_CONCURRENCY: intFromEnv(4),
  ARGON2_QUEUE_LIMIT: intFromEnv(64),
  ARGON2_QUEUE_WAIT_MS: intFromEnv(5000),
  /** OpenTelemetry (docs/observability.md "Traces"): tracing is on when one of the endpoints is set; the exporter reads its own OTEL_EXPORTER_OTLP_*, lib/tracing reads the sampler's. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().url().optional(),
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  /** The batch span processor's standard settings, read here: SDK 3's processor takes them only as options. */
  OTEL_BSP_SCHEDULE_DELAY: z.coerce.number().int().positive().optional(),
  OTEL_BSP_MAX_QUEUE_SIZE: z.coerce.number().int().positive().optional(),
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: z.coerce.number().int().positive().optional(),
  OTEL_BSP_EXPORT_TIMEOUT: z.coerce.number().int().positive().optional(),
  OTEL_SDK_DISABLED: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.infer<typeof envSchema>;

function isKnownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export class InvalidEnvironmentError extends Error {}

/**
 * The environment `source` describes, validated. `service` names the process it is for: in
 * production that service's secrets must be there (and only its: see lib/service-secrets.ts).
 */
export function parseEnv(source: NodeJS.ProcessEnv, service?: ServiceName): Env {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new InvalidEnvironmentError(`Invalid environment:\n${problems.join('\n')}`);
  }
  const unsafe = parsed.data.NODE_ENV === 'production' ? [...(service ? secretProblems(source, service) : []), ...unsafeProductionSettings(source, parsed.data)] : [];
  if (unsafe.length > 0) throw new InvalidEnvironmentError(`Unsafe production environment:\n${unsafe.map((line) => `  ${line}`).join('\n')}`);
  return parsed.data;
}

const LOOPBACK_HOSTS = new Set([LOOPBACK, 'localhost', '::1']);

/** What production refuses from any process, one line each: silent exposure. Secrets are per service (secretProblems). */
export function unsafeProductionSettings(source: NodeJS.ProcessEnv, env: Env): string[] {
  const problems: string[] = [];
  if (!source.HOST?.trim() && !LOOPBACK_HOSTS.has(env.HOST)) {
    problems.push(`HOST: "${env.HOST}" listens beyond this machine without being asked to; set HOST explicitly (internal services belong on 127.0.0.1 or a private network)`);
  }
  const trustProblem = env.TRUST_PROXY === undefined ? undefined : trustProxyProblem(env.TRUST_PROXY, true);
  if (trustProblem) problems.push(`TRUST_PROXY: "${env.TRUST_PROXY}" ${trustProblem}`);
  return problems;
}

let cached: Env | undefined;
/** The services whose secrets this process's environment has been checked for. */
const checkedFor = new Set<ServiceName | undefined>();

/**
 * Reads and validates the environment once; exits with every problem listed when it is bad.
 * A process's entry point names its service, so production asks it for its own secrets;
 * library code that only reads a setting calls it without.
 */
export function loadEnv(service?: ServiceName): Env {
  if (cached && checkedFor.has(service)) return cached;
  // Apollo's libraries phone home unless told not to; nothing leaves this deployment.
  process.env.APOLLO_TELEMETRY_DISABLED ??= '1';
  try {
    const env = parseEnv(process.env, service);
    cached ??= env;
    checkedFor.add(service);
    return cached;
  } catch (error) {
    if (error instanceof InvalidEnvironmentError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}

/** Tests change the environment per file; they call this before building servers. */
export function resetEnvCache(): void {
  cached = undefined;
  checkedFor.clear();
}

const tracingSchema = envSchema.pick({
  OTEL_EXPORTER_OTLP_ENDPOINT: true,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: true,
  OTEL_SERVICE_NAME: true,
  OTEL_BSP_SCHEDULE_DELAY: true,
  OTEL_BSP_MAX_QUEUE_SIZE: true,
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: true,
  OTEL_BSP_EXPORT_TIMEOUT: true,
  OTEL_SDK_DISABLED: true,
});
export type TracingEnv = z.infer<typeof tracingSchema>;

/**
 * The tracing settings alone, for lib/tracing/start.ts, which runs before the entry point
 * names its service: the whole environment is validated then, by `loadEnv(service)`, with
 * every problem at once. Bad tracing settings here leave tracing off and are reported there.
 */
export function loadTracingEnv(): TracingEnv | undefined {
  // First thing every entry point does, before Apollo's libraries load (see loadEnv).
  process.env.APOLLO_TELEMETRY_DISABLED ??= '1';
  const parsed = tracingSchema.safeParse(process.env);
  return parsed.success ? parsed.data : undefined;
}

export function serviceUrls(env: Env): Record<'auth' | 'tracker' | 'accounting' | 'analytics', string> {
  const local = (port: number) => `http://127.0.0.1:${port}/graphql`;
  return {
    auth: env.AUTH_URL ?? local(env.AUTH_PORT),
    tracker: env.TRACKER_URL ?? local(env.TRACKER_PORT),
    accounting: env.ACCOUNTING_URL ?? local(env.ACCOUNTING_PORT),
    analytics: env.ANALYTICS_URL ?? local(env.ANALYTICS_PORT),
  };
}
