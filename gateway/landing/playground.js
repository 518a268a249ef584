// Mounts GraphiQL (UMD globals React, ReactDOM and GraphiQL, served from npm packages).
/* global React, ReactDOM, GraphiQL */
(function () {
  'use strict';

  var root = document.getElementById('graphiql');
  var endpoint = new URL(root.getAttribute('data-endpoint'), window.location.href).href;

  var welcome = [
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

  root.classList.remove('loading');
  root.textContent = '';
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: GraphiQL.createFetcher({ url: endpoint }),
      defaultQuery: welcome,
      defaultEditorToolsVisibility: 'headers',
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    }),
  );
})();
