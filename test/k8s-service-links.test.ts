import { join } from 'node:path';
import type { IService } from 'kubernetes-models/v1/Service';
import { envSchema, parseEnv } from '@popug/lib/env';
import { K8S_DIR, renderKustomization, type KubeObject } from '../scripts/kustomize';

/**
 * Issue 26: with service links on (Kubernetes' default) every pod gets `AUTH_PORT=tcp://…`
 * and the like for each Service, which are our port settings' names. The pods turn the
 * links off; should one still run with them, the error has to say why, not just "Invalid".
 */
const rendered = {
  base: renderKustomization(join(K8S_DIR, 'base')),
  production: renderKustomization(join(K8S_DIR, 'overlays', 'production')),
};

type PodSpec = { enableServiceLinks?: boolean };
/** The pod specs an object makes, whatever the workload kind. */
const podSpecs = (object: KubeObject): PodSpec[] => {
  const spec = (object as { spec?: Record<string, unknown> }).spec;
  if (!spec) return [];
  if (object.kind === 'Pod') return [spec];
  const template = spec.template as { spec?: PodSpec } | undefined;
  const jobTemplate = spec.jobTemplate as { spec?: { template?: { spec?: PodSpec } } } | undefined;
  return [template?.spec, jobTemplate?.spec?.template?.spec].filter((pod): pod is PodSpec => pod !== undefined);
};

/** What the kubelet puts in a pod's environment for a Service when service links are on. */
const serviceLinkVariables = (service: IService & KubeObject): Record<string, string> => {
  const name = service.metadata.name.toUpperCase().replaceAll('-', '_');
  const host = '10.0.0.1';
  const ports = service.spec?.ports ?? [];
  const first = ports[0];
  if (!first) return {};
  const variables: Record<string, string> = {
    [`${name}_SERVICE_HOST`]: host,
    [`${name}_SERVICE_PORT`]: String(first.port),
    [`${name}_PORT`]: `tcp://${host}:${first.port}`,
  };
  for (const port of ports) {
    if (port.name) variables[`${name}_SERVICE_PORT_${port.name.toUpperCase().replaceAll('-', '_')}`] = String(port.port);
    const prefix = `${name}_PORT_${port.port}_TCP`;
    Object.assign(variables, { [prefix]: `tcp://${host}:${port.port}`, [`${prefix}_PROTO`]: 'tcp', [`${prefix}_PORT`]: String(port.port), [`${prefix}_ADDR`]: host });
  }
  return variables;
};

describe.each(Object.keys(rendered) as (keyof typeof rendered)[])('the %s manifests', (overlay) => {
  it('turn service links off in every pod', () => {
    const pods = rendered[overlay].flatMap((object) => podSpecs(object).map((pod) => ({ object: `${object.kind} ${object.metadata.name}`, enableServiceLinks: pod.enableServiceLinks })));
    expect(pods.length).toBeGreaterThanOrEqual(6);
    expect(pods.filter((pod) => pod.enableServiceLinks !== false)).toEqual([]);
  });
});

describe("the environment Kubernetes' service links would add", () => {
  const services = rendered.production.filter((object) => object.kind === 'Service') as (IService & KubeObject)[];
  const injected = Object.assign({}, ...services.map(serviceLinkVariables)) as Record<string, string>;

  it('covers every Service', () => {
    expect(services.map((service) => service.metadata.name).sort()).toEqual(['accounting', 'analytics', 'auth', 'gateway', 'jobs', 'tracker']);
    expect(injected.AUTH_PORT).toBe('tcp://10.0.0.1:4001');
  });

  it('is either not read or refused with the cause and the fix named, per setting', () => {
    let message: string | undefined;
    try {
      parseEnv({ ...injected });
    } catch (error) {
      message = (error as Error).message;
    }
    if (message === undefined) return;
    const problems = message.split('\n').slice(1);
    const read = Object.keys(injected).filter((name) => name in envSchema.shape);
    expect(problems.map((problem) => problem.trim().split(':')[0]).sort()).toEqual(read.sort());
    for (const problem of problems) {
      expect(problem).toMatch(/Kubernetes service link/);
      expect(problem).toMatch(/enableServiceLinks: false/);
    }
  });

  it('leaves a port setting given explicitly as it is', () => {
    expect(injected.JOBS_PORT).toBe('tcp://10.0.0.1:4005');
    expect(() => parseEnv({ ...injected, AUTH_PORT: '4001', TRACKER_PORT: '4002', ACCOUNTING_PORT: '4003', ANALYTICS_PORT: '4004', JOBS_PORT: '4005', GATEWAY_PORT: '4000' })).not.toThrow();
  });
});
