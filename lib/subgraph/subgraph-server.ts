import type { IncomingMessage, RequestListener } from 'node:http';
import type { Duplex } from 'node:stream';
import { gql } from 'graphql-tag';
import type { Express } from 'express';
import type { IRules } from 'graphql-shield';
import type { GraphQLResolverMap } from '@apollo/subgraph';
import type { Env } from '../env';
import { loadPublicKey } from '../keys';
import type { Logger } from '../logger';
import type { Registry } from 'prom-client';
import type { HealthDetails, ReadinessChecks } from '../health';
import { openDatabase, type MikroORM, type OrmOptions } from '../db/orm';
import { checkDatabaseReady } from '../db/readiness';
import { readSubgraphSdl, type SubgraphName } from '../../schema/subgraph-sdl';
import { createSubgraph, type Subgraph } from './create-subgraph';

export interface SubgraphServerOptions<TServices> {
  name: SubgraphName;
  database: OrmOptions;
  // Typed per subgraph by codegen; any subgraph's map is accepted here.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  resolvers: GraphQLResolverMap<any>;
  rules: IRules;
  permissionCatalog: readonly string[];
  /** Runs once the database is migrated: returns the services resolvers get, and how to close them. */
  prepare?: (orm: MikroORM) => Promise<{ services: TServices; close?: () => Promise<void>; wanted?: ReadinessChecks; health?: HealthDetails; metrics?: (registry: Registry) => void }>;
  routes?: (app: Express, orm: MikroORM) => void;
}

export interface SubgraphServer {
  subgraph: Subgraph;
  orm: MikroORM;
  app: RequestListener;
  internal: RequestListener;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  closeUpgrades(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A subgraph ready to listen: SDL of schema/subgraph-sdl.ts, shield on, its own database
 * opened as it is. A database that is missing or not migrated does not stop the start:
 * the service listens, `/ready` answers 503 naming the database, and every request tries
 * the database again, so the service serves as soon as the migrate step or a restore has
 * put it there. It never creates it.
 */
export async function createSubgraphServer<TServices>(
  env: Env,
  logger: Logger,
  options: SubgraphServerOptions<TServices>,
): Promise<SubgraphServer> {
  const orm = await openDatabase(env, { ...options.database, logger });
  const databaseReady = () => checkDatabaseReady(orm.em, env, options.database);
  await databaseReady().catch((error: unknown) => logger.error({ err: error }, `${options.name} is not ready: ${(error as Error).message}`));
  const prepared = await options.prepare?.(orm);
  const subgraph = await createSubgraph({
    name: options.name,
    typeDefs: gql(readSubgraphSdl(options.name)),
    resolvers: options.resolvers,
    rules: options.rules,
    permissionCatalog: options.permissionCatalog,
    orm,
    gatewayKey: loadPublicKey(env, 'gateway'),
    logger,
    permissionCacheMs: env.PERMISSION_CACHE_MS,
    services: prepared?.services,
    routes: options.routes ? (app) => options.routes?.(app, orm) : undefined,
    production: env.NODE_ENV === 'production',
    wanted: prepared?.wanted,
    health: prepared?.health,
    metrics: prepared?.metrics,
    databaseReady,
  });
  return {
    subgraph,
    orm,
    app: subgraph.app,
    internal: subgraph.internal,
    upgrade: subgraph.upgrade,
    closeUpgrades: subgraph.closeUpgrades,
    async close() {
      await subgraph.closeUpgrades();
      await subgraph.stop();
      await prepared?.close?.();
      await orm.close();
    },
  };
}
