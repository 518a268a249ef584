import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job, type IJob } from 'kubernetes-models/batch/v1/Job';
import { HorizontalPodAutoscaler, type IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { NetworkPolicy, type INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget, type IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { parseEnv } from '@popug/lib/env';
import { productionSecrets } from '@popug/testing/production-secrets';
import { SECRETS_BY_SERVICE, type SecretName, type ServiceName } from '@popug/lib/service-secrets';
import { REDIS_SERVICES, redisUserName } from '../lib/redis-users';
import { K8S_DIR, mergePatch, renderKustomization, type KubeObject } from '../scripts/kustomize';

/**
 * deploy/k8s/ rendered by our kustomize subset (the same objects `kubectl kustomize` makes
 * of it) and every object validated against the Kubernetes schemas of `kubernetes-models`;
 * then what the deployment promises: probes, requests, autoscaling, disruption budgets,
 * subgraphs reachable from the gateway only, secrets from Secrets.
 */
type Model = { validate(): void };
const MODELS: Record<string, new (data: never) => Model> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

const SERVICES = ['gateway', 'auth', 'tracker', 'accounting', 'analytics', 'jobs'] as const;
const SUBGRAPHS = ['auth', 'tracker', 'accounting', 'analytics'] as const;
/** The services with a PostgreSQL role of their own (docs/operations.md "Database roles"). */
const DATABASE_SERVICES = ['auth', 'tracker', 'accounting', 'analytics', 'jobs'] as const;
const rendered = {
  base: renderKustomization(join(K8S_DIR, 'base')),
  production: renderKustomization(join(K8S_DIR, 'overlays', 'production')),
};
const secretExamples = parseAllDocuments(readFileSync(join(K8S_DIR, 'secrets.example.yaml'), 'utf8')).map((document) => document.toJS() as KubeObject);

const secretExample = (name: string) => named(secretExamples, name) as KubeObject & { stringData?: Record<string, string> };
const ofKind = <T>(objects: KubeObject[], kind: string) => objects.filter((object) => object.kind === kind) as unknown as (T & KubeObject)[];
const named = <T extends { metadata?: { name?: string } }>(objects: T[], name: string): T => {
  const found = objects.find((object) => object.metadata?.name === name);
  if (!found) throw new Error(`no ${name}`);
  return found;
};
const selects = (selector: Record<string, string> | undefined, labels: Record<string, string>) =>
  Object.entries(selector ?? {}).every(([key, value]) => labels[key] === value);

describe.each(Object.keys(rendered) as (keyof typeof rendered)[])('the %s manifests', (overlay) => {
  const objects = rendered[overlay];
  const deployments = ofKind<IDeployment>(objects, 'Deployment');

  it('validate against the Kubernetes schemas, every object', () => {
    const problems = [...objects, ...secretExamples].flatMap((object) => {
      const model = MODELS[`${object.apiVersion}/${object.kind}`];
      if (!model) return [`${object.kind} ${object.metadata.name}: no schema for ${object.apiVersion}`];
      try {
        new model(object as never).validate();
        return [];
      } catch (error) {
        return [`${object.kind} ${object.metadata.name}: ${(error as Error).message}`];
      }
    });
    expect(problems).toEqual([]);
  });

  it('run each service as a Deployment probed on /ready and /live, with resource requests, as a non-root user', () => {
    expect(deployments.map((deployment) => deployment.metadata.name).sort()).toEqual([...SERVICES].sort());
    for (const deployment of deployments) {
      const pod = deployment.spec?.template.spec;
      const container = pod?.containers[0];
      expect({ name: deployment.metadata.name, ready: container?.readinessProbe?.httpGet?.path, live: container?.livenessProbe?.httpGet?.path }).toEqual({
        name: deployment.metadata.name,
        ready: '/ready',
        live: '/live',
      });
      expect(container?.resources?.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
      expect(pod?.securityContext?.runAsNonRoot).toBe(true);
      expect(pod?.terminationGracePeriodSeconds).toBeGreaterThan(15);
    }
  });

  it('probe the public port, and name the internal port (/health, /metrics) as the process listens on it and Prometheus scrapes it', () => {
    for (const deployment of deployments) {
      const name = deployment.metadata.name;
      const pod = deployment.spec?.template;
      const container = pod?.spec?.containers[0];
      const internal = container?.ports?.find((port) => port.name === 'internal')?.containerPort;
      const setting = container?.env?.find((variable) => variable.name === `${name.toUpperCase()}_INTERNAL_PORT`)?.value;
      expect({
        name,
        probedOn: [container?.startupProbe, container?.livenessProbe, container?.readinessProbe].map((probe) => probe?.httpGet?.port),
        internal: setting === undefined ? undefined : Number(setting),
        scraped: [pod?.metadata?.annotations?.['prometheus.io/port'], pod?.metadata?.annotations?.['prometheus.io/path']],
      }).toEqual({ name, probedOn: ['http', 'http', 'http'], internal, scraped: [String(internal), '/metrics'] });
      expect(internal).toBeGreaterThan(0);
    }
  });

  it('spread each Deployment over zones and nodes without refusing to schedule, and budget disruptions below its replicas', () => {
    const budgets = ofKind<IPodDisruptionBudget>(objects, 'PodDisruptionBudget');
    for (const deployment of deployments) {
      const name = deployment.metadata.name;
      const spread = deployment.spec?.template.spec?.topologySpreadConstraints ?? [];
      expect({ name, spread: spread.map((constraint) => [constraint.topologyKey, constraint.whenUnsatisfiable, constraint.labelSelector?.matchLabels]) }).toEqual({
        name,
        spread: [
          ['topology.kubernetes.io/zone', 'ScheduleAnyway', { 'app.kubernetes.io/name': name }],
          ['kubernetes.io/hostname', 'ScheduleAnyway', { 'app.kubernetes.io/name': name }],
        ],
      });
      // A budget at or above the replicas would block every node drain.
      expect({ name, budgetBelowReplicas: Number(named(budgets, name).spec?.minAvailable) < (deployment.spec?.replicas ?? 1) }).toEqual({ name, budgetBelowReplicas: true });
    }
  });

  it('migrate the databases in a Job that runs once, the only pod with the provisioning URL', () => {
    const jobs = ofKind<IJob>(objects, 'Job');
    expect(jobs.map((job) => job.metadata.name).sort()).toEqual(['bootstrap-admin', 'migrate']);
    const job = named(jobs, 'migrate');
    const pod = job.spec?.template.spec;
    const container = pod?.containers[0];
    expect(container?.command).toEqual(['node', 'dist/scripts/migrate.js']);
    expect(pod?.restartPolicy).toBe('Never');
    expect(pod?.enableServiceLinks).toBe(false);
    expect(pod?.securityContext?.runAsNonRoot).toBe(true);
    expect(job.spec?.backoffLimit).toBeGreaterThan(0);
    // Each service's own database Secret under its prefix (AUTH_DATABASE_URL, …): the roles and passwords it provisions.
    const sources = (container?.envFrom ?? []).map((source) => [source.prefix ?? '', source.configMapRef?.name ?? source.secretRef?.name]);
    expect(sources).toEqual([
      ['', 'popug-config'],
      ['', 'popug-database-admin'],
      ...DATABASE_SERVICES.map((service) => [`${service.toUpperCase()}_`, `popug-${service}-database`]),
    ]);
    for (const deployment of deployments) {
      for (const container of [...(deployment.spec?.template.spec?.initContainers ?? []), ...(deployment.spec?.template.spec?.containers ?? [])]) {
        expect([deployment.metadata.name, container.envFrom?.some((source) => source.secretRef?.name === 'popug-database-admin')]).toEqual([deployment.metadata.name, false]);
      }
    }
  });

  it('give each service its own database role\'s Secret, and the gateway none', () => {
    const databaseSecrets = Object.fromEntries(
      deployments.map((deployment) => [
        deployment.metadata.name,
        (deployment.spec?.template.spec?.containers[0]?.envFrom ?? []).flatMap((source) => [source.secretRef?.name ?? ''].filter((name) => name.endsWith('-database'))),
      ]),
    );
    expect(databaseSecrets).toEqual({ gateway: [], ...Object.fromEntries(DATABASE_SERVICES.map((service) => [service, [`popug-${service}-database`]])) });
  });

  it('scale each Deployment with an HPA and keep some of it through a disruption', () => {
    const autoscalers = ofKind<IHorizontalPodAutoscaler>(objects, 'HorizontalPodAutoscaler');
    const budgets = ofKind<IPodDisruptionBudget>(objects, 'PodDisruptionBudget');
    for (const deployment of deployments) {
      const name = deployment.metadata.name;
      expect(named(autoscalers, name).spec?.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name });
      expect(named(autoscalers, name).spec?.minReplicas).toBeGreaterThanOrEqual(2);
      const budget = named(budgets, name).spec;
      expect(selects(budget?.selector?.matchLabels, deployment.spec?.template.metadata?.labels ?? {})).toBe(true);
      expect(budget?.minAvailable).toBeGreaterThanOrEqual(1);
    }
  });

  it('let only the gateway reach the subgraphs (and the jobs worker reach auth, for the queue board; the monitoring namespace their internal ports)', () => {
    const policies = ofKind<INetworkPolicy>(objects, 'NetworkPolicy');
    const sources = (name: string) => {
      const labels = named(deployments, name).spec?.template.metadata?.labels ?? {};
      const applying = policies.filter((policy) => selects(policy.spec?.podSelector?.matchLabels, labels));
      if (applying.length === 0) return ['anyone'];
      const peerName = (peer: { podSelector?: { matchLabels?: Record<string, string> }; namespaceSelector?: { matchLabels?: Record<string, string> } }) =>
        peer.podSelector?.matchLabels?.['app.kubernetes.io/name'] ?? (peer.namespaceSelector?.matchLabels?.['popug-jira/monitoring'] === 'true' ? 'monitoring' : 'anyone');
      return applying.flatMap((policy) => policy.spec?.ingress?.flatMap((rule) => rule.from?.map(peerName) ?? ['anyone']) ?? []).sort();
    };
    expect(Object.fromEntries(SUBGRAPHS.map((name) => [name, sources(name)]))).toEqual({
      auth: ['gateway', 'jobs', 'monitoring'],
      tracker: ['gateway', 'monitoring'],
      accounting: ['gateway', 'monitoring'],
      analytics: ['gateway', 'monitoring'],
    });
  });

  it('create the first admin in a Job that runs once, the only pod given the admin\'s password', () => {
    const job = named(ofKind<IJob>(objects, 'Job'), 'bootstrap-admin');
    const pod = job.spec?.template.spec;
    expect(pod?.containers[0]?.command).toEqual(['node', 'dist/scripts/bootstrap-admin.js']);
    expect(pod?.restartPolicy).toBe('Never');
    expect(pod?.enableServiceLinks).toBe(false);
    expect(pod?.securityContext?.runAsNonRoot).toBe(true);
    expect(job.spec?.backoffLimit).toBeGreaterThan(0);
    const holders = podsOf(objects).filter(({ containers }) => containers.some((container) => secretsOf(container).includes('popug-admin')));
    expect(holders.map(({ name }) => name)).toEqual(['bootstrap-admin']);
  });

  it('give each service that uses Redis a Secret with its own user, and tracker and analytics none', () => {
    const redisSecrets = Object.fromEntries(
      deployments.map((deployment) => [
        deployment.metadata.name,
        (deployment.spec?.template.spec?.containers[0]?.envFrom ?? []).flatMap((source) => source.secretRef?.name ?? []).filter((name) => secretExample(name).stringData?.REDIS_URL),
      ]),
    );
    expect(redisSecrets).toEqual({
      gateway: ['popug-redis-gateway'],
      auth: ['popug-redis-auth'],
      tracker: [],
      accounting: ['popug-redis-accounting'],
      analytics: [],
      jobs: ['popug-redis-jobs'],
    });
    for (const service of REDIS_SERVICES) expect(new URL(secretExample(`popug-redis-${service}`).stringData?.REDIS_URL ?? '').username).toBe(redisUserName('popug', service));
  });

  it('read keys, the admin password and connection strings from Secrets whose shape secrets.example.yaml shows', () => {
    const referenced = new Set(podsOf(objects).flatMap(({ containers }) => containers.flatMap(secretsOf)));
    expect([...referenced].sort()).toEqual(secretExamples.map((secret) => secret.metadata.name).sort());
    const inEnvironment = JSON.stringify(objects.filter((object) => object.kind !== 'Secret'));
    expect(inEnvironment).not.toMatch(/PRIVATE_KEY|ADMIN_PASSWORD|DATABASE_URL|DATABASE_ADMIN_URL|REDIS_URL/);
  });
});

/** Every pod template (Deployments and Jobs) with all its containers, init containers first. */
function podsOf(objects: KubeObject[]): { name: string; containers: IContainer[] }[] {
  return [...ofKind<IDeployment>(objects, 'Deployment'), ...ofKind<IJob>(objects, 'Job')].map((workload) => ({
    name: workload.metadata.name,
    containers: [...(workload.spec?.template.spec?.initContainers ?? []), ...(workload.spec?.template.spec?.containers ?? [])],
  }));
}
const secretsOf = (container: IContainer): string[] => container.envFrom?.flatMap((source) => source.secretRef?.name ?? []) ?? [];

/** The service each container runs, by its command's entry point (lib/service-secrets.ts names them). */
function serviceOf(container: IContainer): ServiceName {
  const entry = container.command?.at(-1) ?? '';
  const found = /^dist\/(?:gateway|subgraphs\/(auth|tracker|accounting|analytics)|jobs|scripts\/(migrate|bootstrap-admin))(?:\/index)?\.js$/.exec(entry);
  if (!found) throw new Error(`no service runs ${entry}`);
  return (found[1] ?? found[2] ?? entry.split('/')[1]) as ServiceName;
}

/**
 * Each container's environment as the cluster gives it: its ConfigMaps, then its Secrets as
 * secrets.example.yaml shapes them (generated keys and password in place of the placeholders),
 * then its own `env`. Also which of the signing keys and the admin password it got.
 */
function environmentOf(container: IContainer, objects: KubeObject[]): { env: Record<string, string>; secrets: SecretName[] } {
  const gateway = generateKeyPairSync('ed25519');
  const generated: Record<SecretName, string> = {
    AUTH_PRIVATE_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    GATEWAY_PRIVATE_KEY: gateway.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    GATEWAY_PUBLIC_KEY: gateway.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    ADMIN_PASSWORD: randomBytes(18).toString('base64url'),
  };
  const isSecretName = (key: string): key is SecretName => key in generated;
  const env: Record<string, string> = {};
  const secrets: SecretName[] = [];
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, (named(objects, source.configMapRef.name ?? '') as unknown as { data: Record<string, string> }).data);
    const secret = source.secretRef && (named(secretExamples, source.secretRef.name ?? '') as unknown as { stringData: Record<string, string> });
    for (const [key, value] of Object.entries(secret?.stringData ?? {})) {
      if (isSecretName(key)) secrets.push(key);
      env[key] = isSecretName(key) ? generated[key] : value.replace(/<[^>]*>/g, () => randomBytes(9).toString('base64url'));
    }
  }
  for (const variable of container.env ?? []) env[variable.name] = OPERATOR_FILLS[variable.name] ?? variable.value ?? '';
  return { env, secrets };
}

/** What the operator replaces in the production overlay before applying it (its placeholders). */
const OPERATOR_FILLS: Record<string, string> = { TRUST_PROXY: '203.0.113.10, 203.0.113.11' };

describe('each pod of the production overlay gets exactly the secrets its service uses', () => {
  const objects = rendered.production;
  const containers = podsOf(objects).flatMap(({ name, containers: list }) => list.map((container) => ({ pod: name, container, service: serviceOf(container) })));

  it('covers every Deployment and Job', () => {
    expect(containers.map(({ pod, service }) => `${pod}: ${service}`).sort()).toEqual(
      ['accounting: accounting', 'analytics: analytics', 'auth: auth', 'bootstrap-admin: bootstrap-admin', 'gateway: gateway', 'jobs: jobs', 'migrate: migrate', 'tracker: tracker'],
    );
  });

  it.each(containers.map(({ pod, container, service }) => [`${pod}/${container.name}`, container, service] as const))('%s: production accepts its environment, no secret more or less than its service uses', (_name, container, service) => {
    const { env, secrets } = environmentOf(container, objects);
    expect(secrets.sort()).toEqual([...SECRETS_BY_SERVICE[service]].sort());
    expect(() => parseEnv(env, service)).not.toThrow();
    for (const secret of secrets) {
      const { [secret]: _removed, ...without } = env;
      expect(() => parseEnv(without, service)).toThrow(new RegExp(`^Unsafe production environment:\n {2}${secret}: ${service} needs it and it is not set`));
    }
  });
});

describe('the production overlay', () => {
  const objects = rendered.production;

  it('puts every object in the popug namespace and runs the released image', () => {
    expect(objects.filter((object) => object.kind !== 'Namespace' && object.metadata.namespace !== 'popug')).toEqual([]);
    const images = ofKind<IDeployment>(objects, 'Deployment').flatMap((deployment) => deployment.spec?.template.spec?.containers.map((container) => container.image) ?? []);
    expect(new Set(images)).toEqual(new Set(['registry.example.com/popug/popug-jira:0.1.0']));
  });

  it('runs more gateways, keeps two through a drain, and adds TRUST_PROXY and the task limit beside the ports', () => {
    const gateway = named(ofKind<IDeployment>(objects, 'Deployment'), 'gateway');
    expect(named(ofKind<IHorizontalPodAutoscaler>(objects, 'HorizontalPodAutoscaler'), 'gateway').spec?.minReplicas).toBe(3);
    expect(named(ofKind<IPodDisruptionBudget>(objects, 'PodDisruptionBudget'), 'gateway').spec?.minAvailable).toBe(2);
    expect(gateway.spec?.template.spec?.containers[0]?.env?.map((variable) => variable.name).sort()).toEqual(['GATEWAY_INTERNAL_PORT', 'PORT', 'TRUST_PROXY']);
  });

  it('leaves TRUST_PROXY a placeholder for the load balancers\' addresses, which the gateway refuses to start with, as it refuses whole private ranges', () => {
    const gateway = named(ofKind<IDeployment>(objects, 'Deployment'), 'gateway').spec?.template.spec?.containers[0];
    const placeholder = gateway?.env?.find((variable) => variable.name === 'TRUST_PROXY')?.value ?? '';
    expect(placeholder).toMatch(/^<[^>]+>$/);
    const env = { ...productionSecrets(), HOST: '0.0.0.0' };
    for (const refused of [placeholder, '10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16', '172.16.0.0/12', 'uniquelocal', 'true']) {
      expect(() => parseEnv({ ...env, TRUST_PROXY: refused }, 'gateway')).toThrow(/TRUST_PROXY: /);
    }
    expect(() => parseEnv({ ...env, TRUST_PROXY: OPERATOR_FILLS.TRUST_PROXY }, 'gateway')).not.toThrow();
  });
});

describe('the strategic-merge patch', () => {
  it('merges maps, merges named list items by name, and replaces other lists', () => {
    const merged = mergePatch(
      { spec: { ports: [{ name: 'http', port: 1 }], args: ['a'], keep: true } },
      { spec: { ports: [{ name: 'http', port: 2 }, { name: 'metrics', port: 3 }], args: ['b'] } },
    );
    expect(merged).toEqual({ spec: { ports: [{ name: 'metrics', port: 3 }, { name: 'http', port: 2 }], args: ['b'], keep: true } });
  });
});
