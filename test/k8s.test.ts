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

  it('migrate the databases in a Job that runs once, with the services\' database settings', () => {
    const jobs = ofKind<IJob>(objects, 'Job');
    expect(jobs.map((job) => job.metadata.name)).toEqual(['migrate']);
    const job = named(jobs, 'migrate');
    const pod = job.spec?.template.spec;
    const container = pod?.containers[0];
    expect(container?.command).toEqual(['node', 'dist/scripts/migrate.js']);
    expect(pod?.restartPolicy).toBe('Never');
    expect(pod?.enableServiceLinks).toBe(false);
    expect(pod?.securityContext?.runAsNonRoot).toBe(true);
    expect(job.spec?.backoffLimit).toBeGreaterThan(0);
    // The jobs worker's own Redis user aside: migrations use no Redis.
    const sources = (container?.envFrom ?? []).map((source) => source.configMapRef?.name ?? source.secretRef?.name);
    const worker = named(deployments, 'jobs').spec?.template.spec?.containers[0];
    expect(sources).toEqual((worker?.envFrom ?? []).map((source) => source.configMapRef?.name ?? source.secretRef?.name).filter((name) => name !== 'popug-redis-jobs'));
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

  it('let only the gateway reach the subgraphs (and the jobs worker reach auth, for the queue board)', () => {
    const policies = ofKind<INetworkPolicy>(objects, 'NetworkPolicy');
    const sources = (name: string) => {
      const labels = named(deployments, name).spec?.template.metadata?.labels ?? {};
      const applying = policies.filter((policy) => selects(policy.spec?.podSelector?.matchLabels, labels));
      if (applying.length === 0) return ['anyone'];
      return applying.flatMap((policy) => policy.spec?.ingress?.flatMap((rule) => rule.from?.map((peer) => peer.podSelector?.matchLabels?.['app.kubernetes.io/name'] ?? 'anyone') ?? ['anyone']) ?? []).sort();
    };
    expect(Object.fromEntries(SUBGRAPHS.map((name) => [name, sources(name)]))).toEqual({
      auth: ['gateway', 'jobs'],
      tracker: ['gateway'],
      accounting: ['gateway'],
      analytics: ['gateway'],
    });
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
    const referenced = new Set(deployments.flatMap((deployment) => deployment.spec?.template.spec?.containers.flatMap((container) => container.envFrom?.flatMap((source) => source.secretRef?.name ?? []) ?? []) ?? []));
    expect([...referenced].sort()).toEqual(secretExamples.map((secret) => secret.metadata.name).sort());
    const inEnvironment = JSON.stringify(objects.filter((object) => object.kind !== 'Secret'));
    expect(inEnvironment).not.toMatch(/PRIVATE_KEY|ADMIN_PASSWORD|DATABASE_URL|REDIS_URL/);
  });
});

describe('the production overlay', () => {
  const objects = rendered.production;

  it('puts every object in the popug namespace and runs the released image', () => {
    expect(objects.filter((object) => object.kind !== 'Namespace' && object.metadata.namespace !== 'popug')).toEqual([]);
    const images = ofKind<IDeployment>(objects, 'Deployment').flatMap((deployment) => deployment.spec?.template.spec?.containers.map((container) => container.image) ?? []);
    expect(new Set(images)).toEqual(new Set(['registry.example.com/popug/popug-jira:0.1.0']));
  });

  it('runs more gateways, keeps two through a drain, and adds TRUST_PROXY beside the port', () => {
    const gateway = named(ofKind<IDeployment>(objects, 'Deployment'), 'gateway');
    expect(named(ofKind<IHorizontalPodAutoscaler>(objects, 'HorizontalPodAutoscaler'), 'gateway').spec?.minReplicas).toBe(3);
    expect(named(ofKind<IPodDisruptionBudget>(objects, 'PodDisruptionBudget'), 'gateway').spec?.minAvailable).toBe(2);
    expect(gateway.spec?.template.spec?.containers[0]?.env?.map((variable) => variable.name).sort()).toEqual(['PORT', 'TRUST_PROXY']);
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
