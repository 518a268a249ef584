/**
 * The text summary of a `node --cpu-prof` profile: the functions and packages with the
 * most self time, and the functions with the most total time (each function counted
 * once per sample, however deep it recurses). Samples before the first one inside `--from`
 * (by default the subgraphs' `buildContext`, i.e. the first request) are left out, so
 * start-up (compiling, migrating) does not count.
 *
 *   tsx bench/profile-summary.ts var/profiles/tracker-….cpuprofile [--top 25] [--from buildContext]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values: options, positionals } = parseArgs({ options: { top: { type: 'string', default: '25' }, from: { type: 'string', default: 'buildContext' } }, allowPositionals: true });

/** "name file:line", with the path cut to the package (or the project's own file). */
function functionLabel({ functionName, url, lineNumber }: ProfileNode['callFrame']): string {
  return `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`;
}

function shortUrl(url: string): string {
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(url);
  if (inPackage) return `${inPackage[1]}/${inPackage[2]}`;
  return url.replace(/^file:\/\/.*?\/(lib|subgraphs|gateway)\//, '$1/');
}

/** The package a function belongs to: an npm package, the project, node itself, or V8's own work. */
function packageOf({ url, functionName }: ProfileNode['callFrame']): string {
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (inPackage?.[1]) return inPackage[1];
  if (url.startsWith('node:') || (!url.includes('/') && url)) return 'node (built-in)';
  if (url) return 'project code';
  return functionName.startsWith('(') ? functionName : 'native';
}

function summarise(profile: CpuProfile, top: number, from: string): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const packages = new Map<string, number>();
  let all = 0;
  let started = false;
  profile.samples.forEach((sampleId, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    const leaf = byId.get(sampleId);
    if (!leaf) return;
    const stack: ProfileNode[] = [];
    for (let id: number | undefined = sampleId; id !== undefined; id = parentOf.get(id)) {
      const node = byId.get(id);
      if (node) stack.push(node);
    }
    started ||= stack.some((node) => node.callFrame.functionName === from);
    if (!started) return;
    all += delta;
    add(self, functionLabel(leaf.callFrame), delta);
    add(packages, packageOf(leaf.callFrame), delta);
    for (const label of new Set(stack.map((node) => functionLabel(node.callFrame)))) add(total, label, delta);
  });
  const idle = self.get('(idle) :0') ?? 0;
  const busy = all - idle;
  const table = (title: string, counts: Map<string, number>) =>
    [
      title,
      ...[...counts]
        .filter(([label]) => !label.startsWith('(idle)') && !label.startsWith('(root)'))
        .sort((left, right) => right[1] - left[1])
        .slice(0, top)
        .map(([label, micros]) => `${((100 * micros) / busy).toFixed(1).padStart(5)} %  ${label}`),
    ].join('\n');
  return [
    `busy ${(busy / 1e6).toFixed(2)} s of ${(all / 1e6).toFixed(2)} s sampled (percentages are of busy time)`,
    table('self time by package', packages),
    table('self time by function', self),
    table('total time by function', total),
  ].join('\n\n');
}

function add(counts: Map<string, number>, key: string, value: number): void {
  counts.set(key, (counts.get(key) ?? 0) + value);
}

for (const file of positionals) {
  console.log(`# ${file}\n`);
  console.log(summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(options.top), options.from));
}
