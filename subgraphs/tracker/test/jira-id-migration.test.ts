import { Client } from 'pg';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import { migrateDatabase, type OrmOptions } from '@popug/lib/db/orm';
import { isolateTestFile } from '@popug/testing/isolation';
import { trackerDatabase } from '../database';

/**
 * Migration20261206124019 on a tracker that already holds open tasks sharing a jira id: the
 * oldest keeps it, each newer one gives it up and says so in its description, done tasks and
 * unique ids are untouched, and the partial unique index then holds.
 */

const MIGRATION = 'Migration20261206124019';
const env = isolateTestFile();
let tracker: Client | undefined;

afterAll(async () => {
  await tracker?.end();
});

/** The tracker's migrations before `migration` (their names sort by date). */
function before(options: OrmOptions, migration: string): OrmOptions {
  return { ...options, migrations: Object.fromEntries(Object.entries(options.migrations).filter(([name]) => name < migration)) };
}

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

test('open tasks sharing a jira id: the oldest keeps it, the others give it up in writing; then the index holds', async () => {
  await migrateDatabase(env, before(trackerDatabase, MIGRATION));
  tracker = new Client({ connectionString: databaseUrl(env, databaseName(env, 'tracker')) });
  await tracker.connect();
  const rows: [number, string | null, string, string][] = [
    [1, 'POPUG-1', 'OPEN', '3 hours'],
    [2, 'POPUG-1', 'OPEN', '2 hours'],
    [3, 'POPUG-1', 'OPEN', '1 hour'],
    [4, 'POPUG-1', 'DONE', '4 hours'],
    [5, 'POPUG-2', 'OPEN', '0 hours'],
    [6, null, 'OPEN', '5 hours'],
  ];
  for (const [n, jiraId, status, age] of rows) {
    await tracker.query(
      `insert into tasks (id, title, jira_id, description, status, assign_fee, completion_reward, assignee_id, created_at, completed_at)
       values ($1, $2, $3, 'Described.', $4::text, 1500, 3000, $1, now() - $5::interval, case when $4::text = 'DONE' then now() end)`,
      [id(n), `Task ${n}`, jiraId, status, age],
    );
  }

  await migrateDatabase(env, trackerDatabase);

  const { rows: after } = await tracker.query<{ id: string; jira_id: string | null; description: string }>('select id, jira_id, description from tasks order by id');
  const gaveUp = `Described.\n\n(Jira id POPUG-1 removed: the older open task ${id(1)} has it.)`;
  expect(after).toEqual([
    { id: id(1), jira_id: 'POPUG-1', description: 'Described.' },
    { id: id(2), jira_id: null, description: gaveUp },
    { id: id(3), jira_id: null, description: gaveUp },
    { id: id(4), jira_id: 'POPUG-1', description: 'Described.' },
    { id: id(5), jira_id: 'POPUG-2', description: 'Described.' },
    { id: id(6), jira_id: null, description: 'Described.' },
  ]);
  await expect(
    tracker.query(
      `insert into tasks (id, title, jira_id, description, status, assign_fee, completion_reward, assignee_id, created_at)
       values ($1, 'Again', 'POPUG-2', 'd', 'OPEN', 1500, 3000, $1, now())`,
      [id(7)],
    ),
  ).rejects.toMatchObject({ code: '23505', constraint: 'tasks_open_jira_id_unique' });
});
