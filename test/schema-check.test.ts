import { parse } from 'graphql';
import { checkSchemas, intendedChanges, passes, printApiSchema, type SchemaCheckInput } from '../scripts/schema-changes';
import { readSubgraphSdl, SUBGRAPHS } from '../schema/subgraph-sdl';
import { composeApiSchema } from '../scripts/supergraph';

/**
 * The schema checker (`npm run schema:check`) on the real subgraph SDL as the baseline,
 * with one change made to tracker's copy in each test.
 */
const released = Object.fromEntries(SUBGRAPHS.map((name) => [name, readSubgraphSdl(name)]));
const releasedApi = printApiSchema(composeApiSchema(released));
const UNRELEASED = '# Schema changelog\n\n## Unreleased\n';
const taskQuery = parse('query OneTask($id: ID!) { task(id: $id) { id title jiraId } }');

function changedTracker(edit: (sdl: string) => string, changelog = UNRELEASED): SchemaCheckInput {
  return {
    baselineSubgraphs: released,
    baselineApi: releasedApi,
    currentSubgraphs: { ...released, tracker: edit(released.tracker ?? '') },
    changelog,
    operations: [{ source: 'client.graphql', document: taskQuery }],
  };
}

const withoutJiraId = (sdl: string) => sdl.replace(/^\s*"e\.g\. POPUG-42; null when the task has none\."\n\s*jiraId: String\n/m, '\n');

describe('the schema check', () => {
  it('passes when nothing changed', async () => {
    const report = await checkSchemas(changedTracker((sdl) => sdl));
    expect(passes(report)).toBe(true);
    expect(report.currentApi).toBe(releasedApi);
  });

  it('fails on a removed field, in the API schema and in the subgraph, and names the operation it breaks', async () => {
    const report = await checkSchemas(changedTracker(withoutJiraId));
    expect(passes(report)).toBe(false);
    expect(report.unrecorded.map((change) => `${change.where} ${change.type} ${change.path}`).sort()).toEqual([
      'api FIELD_REMOVED Task.jiraId',
      'tracker FIELD_REMOVED Task.jiraId',
    ]);
    expect(report.invalidOperations).toEqual([{ source: 'client.graphql', problems: ['Cannot query field "jiraId" on type "Task".'] }]);
  });

  it('passes an added field as a safe change', async () => {
    const report = await checkSchemas(changedTracker((sdl) => sdl.replace('  title: String!\n', '  title: String!\n  labels: [String!]!\n')));
    expect(passes(report)).toBe(true);
    expect(report.safe.map((change) => `${change.where} ${change.type} ${change.path}`)).toEqual(
      expect.arrayContaining(['api FIELD_ADDED Task.labels', 'tracker FIELD_ADDED Task.labels']),
    );
  });

  it('fails when an argument changes type', async () => {
    const report = await checkSchemas(changedTracker((sdl) => sdl.replace('task(id: ID!): Task', 'task(id: Int!): Task')));
    expect(report.unrecorded.map((change) => change.type)).toContain('FIELD_ARGUMENT_TYPE_CHANGED');
  });

  it('passes a breaking change recorded as intended under Unreleased', async () => {
    const changelog = `${UNRELEASED}\n- \`FIELD_REMOVED Task.jiraId\` — tasks lost their Jira key.\n`;
    const report = await checkSchemas({ ...changedTracker(withoutJiraId, changelog), operations: [] });
    expect(passes(report)).toBe(true);
    expect(report.recorded).toHaveLength(2);
  });

  it('does not let an entry of a released section excuse a change again', () => {
    const changelog = '## Unreleased\n\n- `TYPE_REMOVED Old`\n\n## Released 2026-11-01\n\n- `FIELD_REMOVED Task.jiraId` — once.\n';
    expect([...intendedChanges(changelog)]).toEqual(['TYPE_REMOVED Old']);
  });
});
