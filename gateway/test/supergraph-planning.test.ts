import { readFileSync } from 'node:fs';
import { SUPERGRAPH_FILE } from '../server';
import { planningOver } from '../supergraph-planning';

const sdl = readFileSync(SUPERGRAPH_FILE, 'utf8');

test('the single-fetch judgement and the subscriptions get one planning of the same supergraph and options', () => {
  const config = { exposeDocumentNodeInFetchNode: true };
  const first = planningOver(sdl, config);
  expect(planningOver(sdl, config)).toBe(first);
  expect(planningOver(sdl, { exposeDocumentNodeInFetchNode: true })).not.toBe(first);
});
