import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type Express } from 'express';
import { errorLoggingPlugin, loadPrivateKey, maskError, serviceUrls, type Env, type Logger } from '@popug/lib';
import { buildGatewayContext, type GatewayContext } from './context';
import { IdentityClient } from './identity-client';
import { IdentitySigner } from './identity-signer';
import { mountLandingPage } from './landing/landing-page';
import { SubgraphSource } from './subgraph-source';
import { mountWebApp } from './web-app';

export const SUPERGRAPH_FILE = join(__dirname, 'supergraph.graphql');
type SubgraphName = keyof ReturnType<typeof serviceUrls>;

export interface GatewayServer {
  app: Express;
  close(): Promise<void>;
}

/** Builds the gateway over the committed supergraph, without listening. */
export async function createGateway(env: Env, logger: Logger): Promise<GatewayServer> {
  const urls = serviceUrls(env);
  const gateway = new ApolloGateway({
    supergraphSdl: readFileSync(SUPERGRAPH_FILE, 'utf8'),
    buildService: ({ name }) => new SubgraphSource({ url: urls[name as SubgraphName] }),
    logger,
  });
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    formatError: maskError,
    includeStacktraceInErrorResponses: false,
    introspection: env.NODE_ENV !== 'production',
    csrfPrevention: true,
    plugins: [ApolloServerPluginLandingPageDisabled(), errorLoggingPlugin<GatewayContext>(logger)],
  });
  await apollo.start();

  const identities = new IdentityClient(urls.auth.replace(/\/graphql$/, '/identity'), env.IDENTITY_CACHE_MS);
  const signer = new IdentitySigner(loadPrivateKey(env, 'gateway'));
  const app = express();
  app.disable('x-powered-by');
  app.get('/health', async (_req, res) => {
    const subgraphs = Object.fromEntries(
      await Promise.all(
        Object.entries(urls).map(async ([name, url]) => [name, await probe(url.replace(/\/graphql$/, '/health'))] as const),
      ),
    );
    res.json({ status: 'ok', service: 'gateway', subgraphs });
  });
  mountLandingPage(app, { graphqlPath: '/graphql', playground: env.NODE_ENV !== 'production' });
  await mountWebApp(app, logger);
  app.use(
    '/graphql',
    express.json({ limit: '1mb' }),
    expressMiddleware(apollo, { context: ({ req }) => buildGatewayContext(req.headers, identities, signer) }),
  );
  return { app, close: () => apollo.stop() };
}

async function probe(url: string): Promise<'ok' | 'down'> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    return response.ok ? 'ok' : 'down';
  } catch {
    return 'down';
  }
}
