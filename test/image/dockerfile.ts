import { readFileSync } from 'node:fs';

export interface Instruction {
  keyword: string;
  args: string;
}
export interface Stage {
  base: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Instructions (continuation lines joined, comments dropped) grouped by the FROM that starts each stage. */
export function parseDockerfile(path: string): Stage[] {
  const text = readFileSync(path, 'utf8');
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const [base = '', as, name] = args.replace(/--platform=\S+\s+/, '').split(/\s+/);
      stages.push({ base, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`${upper} before any FROM`);
    stage.instructions.push({ keyword: upper, args });
  }
  return stages;
}

export interface Copy {
  /** The stage it copies from (`--from=`), or undefined for the build context. */
  from: string | undefined;
  /** Paths in that stage (`/app/` dropped) or in the context. */
  sources: string[];
  /** Where in the image, relative to WORKDIR /app. */
  destination: string;
}

/** A stage's COPY instructions, in order. */
export function copiesOf(stage: Stage): Copy[] {
  return stage.instructions
    .filter((instruction) => instruction.keyword === 'COPY')
    .map((copy) => {
      const words = copy.args.split(/\s+/);
      const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
      const paths = words.filter((word) => !word.startsWith('--'));
      const destination = (paths.at(-1) ?? '').replace(/^\/app\/?/, '').replace(/^\.\/?/, '');
      return { from, sources: paths.slice(0, -1).map((path) => path.replace(/^\/app\//, '')), destination };
    });
}
