import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse, type DocumentNode } from 'graphql';
import { CONTRACT_FILE } from '../schema/operations/contract';
import { readSubgraphSdl, SUBGRAPHS } from '../schema/subgraph-sdl';
import { checkSchemas, passes, type SchemaChange, type SchemaCheckReport } from './schema-changes';
import { MANIFEST_FILE, type TrustedDocumentsManifest } from './trusted-documents';

/**
 * `npm run schema:check` compares schema/*.graphql and the composed API schema with the
 * released baseline in schema/baseline/ and fails on a breaking change not recorded under
 * "## Unreleased" in schema/CHANGELOG.md, or on a client document (the contract, the
 * trusted-documents manifest) that stops validating.
 * `npm run schema:accept` (at a release) moves the baseline to what is there now and dates
 * the Unreleased entries; it refuses while the check fails.
 */
const SCHEMA_DIR = join(__dirname, '..', 'schema');
const BASELINE_DIR = join(SCHEMA_DIR, 'baseline');
const CHANGELOG_FILE = join(SCHEMA_DIR, 'CHANGELOG.md');
const accept = process.argv.includes('--accept');

/** Every client document that must keep validating: the contract, and each operation of the trusted-documents manifest. */
function clientDocuments(): { source: string; document: DocumentNode }[] {
  const manifest = JSON.parse(readFileSync(MANIFEST_FILE, 'utf8')) as TrustedDocumentsManifest;
  return [
    { source: relative(process.cwd(), CONTRACT_FILE), document: readDocument(CONTRACT_FILE) },
    ...manifest.operations.map((operation) => ({ source: `${relative(process.cwd(), MANIFEST_FILE)} ${operation.name}`, document: parse(operation.body) })),
  ];
}

async function main(): Promise<void> {
  const report = await checkSchemas({
    baselineSubgraphs: Object.fromEntries(SUBGRAPHS.map((name) => [name, readFileSync(join(BASELINE_DIR, `${name}.graphql`), 'utf8')])),
    baselineApi: readFileSync(join(BASELINE_DIR, 'api.graphql'), 'utf8'),
    currentSubgraphs: Object.fromEntries(SUBGRAPHS.map((name) => [name, readSubgraphSdl(name)])),
    changelog: readFileSync(CHANGELOG_FILE, 'utf8'),
    operations: clientDocuments(),
  });
  printReport(report);
  if (!passes(report)) process.exit(1);
  if (accept) moveBaseline(report);
}

/** A missing client document fails the check as a document nobody can validate. */
function readDocument(file: string): DocumentNode {
  if (!existsSync(file)) throw new Error(`${file} is missing: the client documents must be checked`);
  return parse(readFileSync(file, 'utf8'));
}

function printReport(report: SchemaCheckReport): void {
  const line = (mark: string, change: SchemaChange) => `${mark} [${change.where}] \`${change.type} ${change.path}\`: ${change.message}`;
  for (const change of report.recorded) console.log(line('✅ intended', change));
  for (const change of report.dangerous) console.log(line('⚠️  dangerous', change));
  for (const change of report.unrecorded) console.error(line('❌ breaking', change));
  for (const { source, problems } of report.invalidOperations) {
    for (const problem of problems) console.error(`❌ ${source}: ${problem}`);
  }
  if (report.unrecorded.length > 0) {
    console.error('Record each intended breaking change under "## Unreleased" in schema/CHANGELOG.md as a line like:\n  - `FIELD_REMOVED Query.tasks` — why, and what clients do instead');
  }
  if (passes(report)) console.log(`✅ schema check: ${report.safe.length} safe, ${report.dangerous.length} dangerous, ${report.recorded.length} intended breaking change(s) since the baseline`);
}

function moveBaseline(report: SchemaCheckReport): void {
  mkdirSync(BASELINE_DIR, { recursive: true });
  for (const name of SUBGRAPHS) writeFileSync(join(BASELINE_DIR, `${name}.graphql`), readSubgraphSdl(name));
  writeFileSync(join(BASELINE_DIR, 'api.graphql'), report.currentApi);
  const released = `## Released ${new Date().toISOString().slice(0, 10)}`;
  writeFileSync(CHANGELOG_FILE, readFileSync(CHANGELOG_FILE, 'utf8').replace(/^## Unreleased\s*$/m, `## Unreleased\n\n${released}`));
  console.log('✅ schema/baseline/ moved to the current schema; the Unreleased entries are dated');
}

main().catch((error: unknown) => {
  console.error(`❌ ${(error as Error).message}`);
  process.exit(1);
});
