import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IDENTITY_HEADER } from '@popug/lib/identity';
import { REQUEST_ID_HEADER } from '@popug/lib/tracing/request-id';
import { SUPERGRAPH_FILE } from '../../gateway/server';
import type { SubgraphName } from './targets';

/**
 * The signed statement and request id the client sends, passed on to the subgraph: Hive does no
 * identity work (the client signs per request, for the one subgraph each bench operation calls).
 */
const PROPAGATE_IDENTITY = `propagateHeaders: {
    fromClientToSubgraphs({ request }) {
      const identity = request.headers.get('${IDENTITY_HEADER}');
      return identity ? { '${IDENTITY_HEADER}': identity, '${REQUEST_ID_HEADER}': request.headers.get('${REQUEST_ID_HEADER}') ?? '' } : {};
    },
  },`;

/**
 * Hive Gateway over our committed supergraph, its subgraph URLs pointed at the running ones:
 * one config with Hive's default (JavaScript) planner, one with `@graphql-hive/router-runtime`'s
 * `unifiedGraphHandler` (Hive Router's Rust query planner, a native addon). The import is
 * explicit so that a runtime that fails to load fails the bench, where the CLI's
 * `--hive-router-runtime` flag would fall back to the JavaScript planner with a warning.
 * `extra` is more of the config object's properties, in both (the live section's subscription transport).
 */
export function writeHiveConfigs(dir: string, urls: Record<SubgraphName, string>, extra = ''): { supergraph: string; js: string; rust: string } {
  const supergraph = readFileSync(SUPERGRAPH_FILE, 'utf8').replace(
    /@join__graph\(name: "(\w+)", url: "[^"]*"\)/g,
    (whole, name: string) => (name in urls ? `@join__graph(name: "${name}", url: "${urls[name as SubgraphName]}")` : whole),
  );
  const files = { supergraph: join(dir, 'supergraph.graphql'), js: join(dir, 'hive-js.config.mjs'), rust: join(dir, 'hive-rust.config.mjs') };
  writeFileSync(files.supergraph, supergraph);
  writeFileSync(files.js, `export const gatewayConfig = {\n  logging: 'warn',\n  graphiql: false,\n  ${PROPAGATE_IDENTITY}\n  ${extra}\n};\n`);
  writeFileSync(
    files.rust,
    `import { unifiedGraphHandler } from '@graphql-hive/router-runtime';\n\nexport const gatewayConfig = {\n  logging: 'warn',\n  graphiql: false,\n  unifiedGraphHandler,\n  ${PROPAGATE_IDENTITY}\n  ${extra}\n};\n`,
  );
  return files;
}
