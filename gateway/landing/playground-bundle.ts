import { basename, dirname, join } from 'node:path';

/**
 * GraphiQL 5 and React 19 ship no browser (UMD) builds any more, so the playground is
 * bundled here with esbuild: ./playground/main.tsx (GraphiQL, React, Monaco and their CSS)
 * and Monaco's three web workers, all served by the gateway itself (the machine may have no
 * internet). Built in memory on the first playground request (a few seconds), then reused:
 * a gateway whose playground nobody opens pays nothing for it.
 */
export type PlaygroundAssets = ReadonlyMap<string, { type: string; body: Uint8Array }>;

let building: Promise<PlaygroundAssets> | undefined;

export function playgroundAssets(): Promise<PlaygroundAssets> {
  building ??= bundle().catch((error: unknown) => {
    building = undefined;
    throw error;
  });
  return building;
}

/** The files the bundle starts from; checked at mount, so a missing package fails the gateway at start. */
export function playgroundEntries(): Record<string, string> {
  return {
    playground: join(__dirname, 'playground', 'main.tsx'),
    'editor.worker': packageFile('monaco-editor', 'esm/vs/editor/editor.worker.js'),
    'json.worker': packageFile('monaco-editor', 'esm/vs/language/json/json.worker.js'),
    'graphql.worker': packageFile('monaco-graphql', 'esm/graphql.worker.js'),
  };
}

async function bundle(): Promise<PlaygroundAssets> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: playgroundEntries(),
    outdir: '/playground/assets',
    write: false,
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    jsx: 'automatic',
    loader: { '.ttf': 'file' },
    assetNames: '[name]-[hash]',
    publicPath: '/playground/assets',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
    legalComments: 'none',
  });
  return new Map(result.outputFiles.map((file) => [basename(file.path), { type: contentType(file.path), body: file.contents }]));
}

function contentType(path: string): string {
  if (path.endsWith('.js')) return 'text/javascript; charset=utf-8';
  if (path.endsWith('.css')) return 'text/css; charset=utf-8';
  if (path.endsWith('.ttf')) return 'font/ttf';
  return 'application/octet-stream';
}

/** Monaco's packages as GraphiQL's editor (@graphiql/react) depends on them, so the workers match its editor. */
function packageFile(name: string, file: string): string {
  const graphiql = dirname(require.resolve('graphiql/package.json'));
  const editor = dirname(require.resolve('@graphiql/react/package.json', { paths: [graphiql] }));
  return join(dirname(require.resolve(`${name}/package.json`, { paths: [editor] })), file);
}
