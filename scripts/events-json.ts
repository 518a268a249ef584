import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { renderEventJsonSchemas } from '../schema/events/json-schema';

/**
 * `npm run events:json` writes schema/events/json/<type>.v<N>.schema.json for every event
 * version; `--check` fails when a committed file is stale, missing or left over.
 */
const JSON_DIR = join(__dirname, '..', 'schema', 'events', 'json');
const checkOnly = process.argv.includes('--check');
const shownDir = relative(process.cwd(), JSON_DIR);

const rendered = renderEventJsonSchemas();
const wanted = new Set(rendered.map((file) => file.fileName));
mkdirSync(JSON_DIR, { recursive: true });
const present = readdirSync(JSON_DIR).filter((name) => name.endsWith('.schema.json'));
const leftOver = present.filter((name) => !wanted.has(name));

if (checkOnly) {
  const stale = rendered.filter((file) => !present.includes(file.fileName) || readFileSync(join(JSON_DIR, file.fileName), 'utf8') !== file.text);
  const problems = [...stale.map((file) => `${file.fileName} is stale or missing`), ...leftOver.map((name) => `${name} has no event version`)];
  if (problems.length) {
    process.stderr.write(`❌ ${shownDir}: ${problems.join('; ')} — run npm run events:json and commit it\n`);
    process.exit(1);
  }
  process.stdout.write(`✅ ${shownDir} matches schema/events (${rendered.length} event versions)\n`);
} else {
  for (const file of rendered) writeFileSync(join(JSON_DIR, file.fileName), file.text);
  for (const name of leftOver) rmSync(join(JSON_DIR, name));
  process.stdout.write(`✅ rendered ${rendered.length} event versions into ${shownDir}\n`);
}
