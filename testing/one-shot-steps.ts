import type { Env } from '../lib/env';
import { prepareDatabases } from '../jobs/replicator/test/fixtures/databases';
import { bootstrapFirstAdmin } from '../subgraphs/auth/services/admin-bootstrap';
import { testLogger } from './stack';

/**
 * What a deployment runs once before its services: the migrate step (services never create
 * or migrate their databases), then the bootstrap step that creates the first admin (auth
 * never holds the admin's password).
 */
export async function runOneShotSteps(env: Env): Promise<void> {
  await prepareDatabases(env);
  await bootstrapFirstAdmin(env, testLogger('bootstrap-admin'));
}
