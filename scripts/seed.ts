import { loadEnv } from '@popug/lib/env';

/**
 * `npm run seed`: a demo company, made through the public API of a running system
 * (`npm start` first) exactly as people would: registrations, role changes, tasks.
 * Safe to run twice: existing people are kept, and tasks are only added.
 */
const env = loadEnv();
const endpoint = `http://127.0.0.1:${env.PORT}/graphql`;
const PASSWORD = 'popug-demo-password';

const PEOPLE = [
  { name: 'Ada Manager', email: 'ada.manager@uberpopug.test', role: 'manager' },
  { name: 'Max Manager', email: 'max.manager@uberpopug.test', role: 'manager' },
  { name: 'Cora Accountant', email: 'cora.accountant@uberpopug.test', role: 'accountant' },
  { name: 'Kiwi Admin', email: 'kiwi.admin@uberpopug.test', role: 'admin' },
  ...['Pip', 'Rio', 'Lory', 'Kea', 'Tui', 'Ara', 'Budgie', 'Cocky'].map((name) => ({
    name: `${name} Popug`,
    email: `${name.toLowerCase()}@uberpopug.test`,
    role: 'worker',
  })),
];

const TASKS = [
  { title: 'Fix the coffee machine', jiraId: 'POPUG-1', description: 'It only makes seed tea.' },
  { title: 'Polish the perches', jiraId: 'POPUG-2', description: 'Every perch on floor 3.' },
  { title: 'Migrate the nest database', jiraId: 'POPUG-3', description: 'Postgres 15, no downtime.' },
  { title: 'Write the quarterly squawk report', jiraId: null, description: 'For the board of owls.' },
  { title: 'Feed the office cat', jiraId: 'POPUG-5', description: 'Carefully.' },
  { title: 'Review pull request #42', jiraId: 'POPUG-6', description: 'The one with the shiny feathers.' },
];

async function call<T>(query: string, variables: Record<string, unknown>, token?: string): Promise<T> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length || !body.data) throw new Error(body.errors?.map((error) => error.message).join('; ') ?? 'no data');
  return body.data;
}

const login = async (email: string, password: string) =>
  (await call<{ login: { token: string } }>('mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }', { e: email, p: password })).login.token;

async function main(): Promise<void> {
  const admin = await login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  const existing = await call<{ users: { id: string; email: string }[] }>('{ users { id email } }', {}, admin);
  const byEmail = new Map(existing.users.map((user) => [user.email, user.id]));
  for (const person of PEOPLE) {
    let id = byEmail.get(person.email);
    if (!id) {
      id = (await call<{ register: { id: string } }>(
        'mutation($e: String!, $n: String!, $p: String!) { register(email: $e, name: $n, password: $p) { id } }',
        { e: person.email, n: person.name, p: PASSWORD },
      )).register.id;
    }
    if (person.role !== 'worker') {
      await call('mutation($id: ID!, $r: String!) { setUserRole(userId: $id, role: $r) { id } }', { id, r: person.role }, admin);
    }
  }
  process.stdout.write(`👥 ${PEOPLE.length} people ready (password "${PASSWORD}")\n`);
  // The tracker learns about new workers through the replicator.
  await new Promise((resolve) => setTimeout(resolve, 3 * env.REPLICATION_INTERVAL_MS));
  const manager = await login('ada.manager@uberpopug.test', PASSWORD);
  // A jira id names one open task at most: a second seed leaves the demo's open ones be.
  const open = await call<{ tasks: { jiraId: string | null }[] }>('{ tasks(status: OPEN, search: "POPUG-", first: 500) { jiraId } }', {}, manager);
  const openJiraIds = new Set(open.tasks.map((task) => task.jiraId));
  const fresh = TASKS.filter((candidate) => candidate.jiraId === null || !openJiraIds.has(candidate.jiraId));
  for (const task of fresh) {
    await call('mutation($t: String!, $d: String!, $j: String) { createTask(title: $t, description: $d, jiraId: $j) { id } }', { t: task.title, d: task.description, j: task.jiraId }, manager);
  }
  process.stdout.write(`📋 ${fresh.length} tasks created and assigned\n✅ demo company ready at http://localhost:${env.PORT}/\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `❌ seed failed: ${(error as Error).message}\n` +
      `   It talked to ${endpoint} as ${env.ADMIN_EMAIL}. Is the system running (npm start), and does\n` +
      '   this shell have the same environment (PORT, ADMIN_EMAIL, ADMIN_PASSWORD, …) as the one that started it?\n',
  );
  process.exit(1);
});
