import { GraphiQL, type GraphiQLProps } from 'graphiql';
import 'graphiql/style.css';
import { createRoot } from 'react-dom/client';

/**
 * The playground's browser entry (bundled by ../playground-bundle.ts): GraphiQL against the
 * gateway's own endpoint. GraphiQL 5 edits with Monaco, whose language services run in web
 * workers; those are bundled beside this file and served from the gateway too (no CDN).
 */

type MonacoHost = typeof globalThis & { MonacoEnvironment?: { getWorker(workerId: string, label: string): Worker } };

const WORKERS: Record<string, string> = { graphql: 'graphql.worker.js', json: 'json.worker.js' };
(globalThis as MonacoHost).MonacoEnvironment = {
  getWorker: (_workerId, label) => new Worker(`/playground/assets/${WORKERS[label] ?? 'editor.worker.js'}`, { type: 'module' }),
};

const WELCOME = [
  '# Welcome to the Popug Jira GraphQL playground.',
  '#',
  '# 1. Sign in (run this, then copy the token):',
  '#      mutation { login(email: "you@uberpopug.test", password: "…") { token expiresAt } }',
  '# 2. Open "Headers" below and paste:',
  '#      { "Authorization": "Bearer <token>" }',
  '# 3. Run queries with the ▶ button or Ctrl-Enter (Cmd-Enter on a Mac).',
  '#    The Docs button on the left shows the whole schema.',
  '',
  '{',
  '  __typename',
  '}',
  '',
].join('\n');

const root = document.getElementById('graphiql');
if (!root) throw new Error('the playground page has no #graphiql element');
const endpoint = new URL(root.dataset.endpoint ?? '/graphql', window.location.href).href;

/** A plain POST per operation, with the headers typed into the headers editor. */
const fetcher: GraphiQLProps['fetcher'] = async (params, options) => {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...options?.headers },
    body: JSON.stringify(params),
  });
  return response.json();
};

root.classList.remove('loading');
root.textContent = '';
createRoot(root).render(
  <GraphiQL fetcher={fetcher} defaultQuery={WELCOME} defaultEditorToolsVisibility="headers" isHeadersEditorEnabled shouldPersistHeaders={false} />,
);
