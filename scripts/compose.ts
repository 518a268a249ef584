import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { composeSupergraph, SUPERGRAPH_PATH } from './supergraph';

/** `npm run compose` writes the supergraph; `--check` fails when the committed one is stale. */
const checkOnly = process.argv.includes('--check');
const shownPath = relative(process.cwd(), SUPERGRAPH_PATH);

try {
  const composed = composeSupergraph();
  if (checkOnly) {
    const committed = readFileSync(SUPERGRAPH_PATH, 'utf8');
    if (committed !== composed) {
      process.stderr.write(`❌ ${shownPath} is stale: run npm run compose and commit it\n`);
      process.exit(1);
    }
    process.stdout.write(`✅ ${shownPath} matches schema/*.graphql\n`);
  } else {
    writeFileSync(SUPERGRAPH_PATH, composed);
    process.stdout.write(`✅ composed ${shownPath}\n`);
  }
} catch (error) {
  process.stderr.write(`❌ ${(error as Error).message}\n`);
  process.exit(1);
}
