import { join } from 'node:path';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { INetworkPolicyPeer } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer';
import type { INetworkPolicyPort } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPort';
import { K8S_DIR, renderKustomization, type KubeObject } from '../scripts/kustomize';

/**
 * Issue 26: the namespace denies every flow, then allows exactly those of
 * docs/architecture.md "Services". The flows are derived back from the rendered policies
 * (which policies select a pod, what their rules let in and out) and compared with the
 * table below, so a rule that opens more than the table, in either direction, fails.
 */
const rendered = {
  base: renderKustomization(join(K8S_DIR, 'base')),
  production: renderKustomization(join(K8S_DIR, 'overlays', 'production')),
};

const DNS = ['kube-dns:53/TCP', 'kube-dns:53/UDP'];
const POSTGRES = 'anywhere:5432/TCP';
const REDIS = 'anywhere:6379/TCP';
/** Each service's internal port (/health, /metrics; the jobs worker's queue board): only from the monitoring namespace. */
const MONITORING = (port: number) => `namespace popug-jira/monitoring=true:${port}/TCP`;
/** Per pod: who may connect to it, and where it may connect. `anywhere` is any address (external PostgreSQL, Redis, SMTP, clients). */
const EXPECTED: Record<string, { ingress: string[]; egress: string[] }> = {
  gateway: { ingress: ['anywhere:4000/TCP', MONITORING(9400)], egress: [...DNS, 'auth:4001/TCP', 'tracker:4002/TCP', 'accounting:4003/TCP', 'analytics:4004/TCP', REDIS] },
  auth: { ingress: ['gateway:4001/TCP', 'jobs:4001/TCP', MONITORING(9401)], egress: [...DNS, POSTGRES, REDIS] },
  tracker: { ingress: ['gateway:4002/TCP', MONITORING(9402)], egress: [...DNS, POSTGRES] },
  accounting: { ingress: ['gateway:4003/TCP', MONITORING(9403)], egress: [...DNS, POSTGRES, REDIS] },
  analytics: { ingress: ['gateway:4004/TCP', MONITORING(9404)], egress: [...DNS, POSTGRES] },
  jobs: {
    ingress: [MONITORING(9405)],
    egress: [...DNS, 'auth:4001/TCP', POSTGRES, REDIS, 'anywhere:25/TCP', 'anywhere:587/TCP', 'anywhere:465/TCP'],
  },
  migrate: { ingress: [], egress: [...DNS, POSTGRES] },
  'bootstrap-admin': { ingress: [], egress: [...DNS, POSTGRES] },
};

type Labels = Record<string, string>;
const podLabels = (object: KubeObject): Labels | undefined =>
  (object as { spec?: { template?: { metadata?: { labels?: Labels } } } }).spec?.template?.metadata?.labels;
const selects = (selector: Labels | undefined, labels: Labels) => Object.entries(selector ?? {}).every(([key, value]) => labels[key] === value);

/** One peer in words; anything the table has no word for is spelt out, so it shows in the diff. */
function describePeer(peer: INetworkPolicyPeer): string {
  const pods = peer.podSelector?.matchLabels;
  const namespaces = peer.namespaceSelector ? (peer.namespaceSelector.matchLabels ?? {}) : undefined;
  if (peer.ipBlock) return `ipBlock ${peer.ipBlock.cidr}`;
  if (peer.podSelector?.matchExpressions || peer.namespaceSelector?.matchExpressions) return `expressions ${JSON.stringify(peer)}`;
  if (!peer.namespaceSelector && pods?.['app.kubernetes.io/name'] && Object.keys(pods).length === 1) return pods['app.kubernetes.io/name'];
  if (namespaces && Object.keys(namespaces).length === 0 && pods?.['k8s-app'] === 'kube-dns' && Object.keys(pods).length === 1) return 'kube-dns';
  if (namespaces && !peer.podSelector && Object.keys(namespaces).length > 0) {
    return `namespace ${Object.entries(namespaces).map(([key, value]) => `${key}=${value}`).join(',')}`;
  }
  return `peer ${JSON.stringify(peer)}`;
}
const describePorts = (ports: INetworkPolicyPort[] | undefined): string[] =>
  ports === undefined || ports.length === 0 ? ['all ports'] : ports.map((port) => `${String(port.port ?? 'all')}/${port.protocol ?? 'TCP'}`);
const flows = (peers: INetworkPolicyPeer[] | undefined, ports: INetworkPolicyPort[] | undefined): string[] => {
  const described = peers === undefined || peers.length === 0 ? ['anywhere'] : peers.map(describePeer);
  return described.flatMap((peer) => describePorts(ports).map((port) => `${peer}:${port}`));
};

describe.each(Object.keys(rendered) as (keyof typeof rendered)[])('the %s network policies', (overlay) => {
  const objects = rendered[overlay];
  const policies = objects.filter((object) => object.kind === 'NetworkPolicy') as unknown as (INetworkPolicy & KubeObject)[];
  const pods = Object.fromEntries(objects.flatMap((object) => (object.kind === 'Deployment' || object.kind === 'Job' ? [[object.metadata.name, podLabels(object) ?? {}]] : [])));

  const allowed = (labels: Labels, direction: 'Ingress' | 'Egress'): string[] => {
    const applying = policies.filter((policy) => selects(policy.spec?.podSelector?.matchLabels, labels) && policy.spec?.policyTypes?.includes(direction));
    const rules =
      direction === 'Ingress'
        ? applying.flatMap((policy) => policy.spec?.ingress?.flatMap((rule) => flows(rule.from, rule.ports)) ?? [])
        : applying.flatMap((policy) => policy.spec?.egress?.flatMap((rule) => flows(rule.to, rule.ports)) ?? []);
    return [...new Set(rules)].sort();
  };

  it('deny every flow in and out of every pod unless a policy allows it', () => {
    const denyAll = policies.filter((policy) => {
      const spec = policy.spec;
      return spec && Object.keys(spec.podSelector ?? {}).length === 0 && !spec.ingress && !spec.egress && spec.policyTypes?.includes('Ingress') && spec.policyTypes.includes('Egress');
    });
    expect(denyAll.map((policy) => policy.metadata.name)).toEqual(['default-deny']);
    // Every policy names its types: one without policyTypes would default to Ingress only and hide an egress rule's intent.
    expect(policies.filter((policy) => !policy.spec?.policyTypes?.length).map((policy) => policy.metadata.name)).toEqual([]);
  });

  it('allow exactly the flows of the architecture, in and out of each pod', () => {
    const derived = Object.fromEntries(Object.entries(pods).map(([name, labels]) => [name, { ingress: allowed(labels, 'Ingress'), egress: allowed(labels, 'Egress') }]));
    const expected = Object.fromEntries(Object.entries(EXPECTED).map(([name, { ingress, egress }]) => [name, { ingress: [...ingress].sort(), egress: [...egress].sort() }]));
    expect(derived).toEqual(expected);
  });

  it('let in at the receiving pod every pod-to-pod flow the sender may send', () => {
    const missing = Object.entries(pods).flatMap(([name, labels]) =>
      allowed(labels, 'Egress').flatMap((flow) => {
        const [peer = '', port = ''] = flow.split(':');
        const receiver = pods[peer];
        if (!receiver) return [];
        return allowed(receiver, 'Ingress').includes(`${name}:${port}`) ? [] : [`${name} → ${flow}`];
      }),
    );
    expect(missing).toEqual([]);
  });
});
