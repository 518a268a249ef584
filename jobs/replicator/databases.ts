import { openDatabase, type EntityManager, type MikroORM, type OrmOptions } from '@popug/lib/db/orm';
import type { Env } from '@popug/lib/env';
import type { Logger } from '@popug/lib/logger';

/**
 * The databases the replicator reads and writes, opened on first use and kept open
 * between passes. A database that failed is forgotten, so the next pass opens it afresh
 * and a restarted server is picked up. Opening never creates or migrates (`npm run
 * migrate` does): a dropped database stays missing, and the replicator reports it
 * (IncidentNotifier.databaseMissing) until an operator restores it.
 */
export class DatabaseHandles {
  private readonly orms = new Map<string, Promise<MikroORM>>();

  constructor(
    private readonly env: Env,
    private readonly logger: Logger,
  ) {}

  /** A fresh EntityManager of the database, opening it when needed. */
  async em(options: OrmOptions): Promise<EntityManager> {
    return (await this.orm(options)).em.fork();
  }

  orm(options: OrmOptions): Promise<MikroORM> {
    let orm = this.orms.get(options.database);
    if (!orm) {
      orm = openDatabase(this.env, { ...options, logger: this.logger, poolMax: 4 });
      orm.catch(() => this.orms.delete(options.database));
      this.orms.set(options.database, orm);
    }
    return orm;
  }

  forget(options: OrmOptions): void {
    const orm = this.orms.get(options.database);
    this.orms.delete(options.database);
    void orm?.then((opened) => opened.close(true)).catch(() => undefined);
  }

  async close(): Promise<void> {
    const orms = [...this.orms.values()];
    this.orms.clear();
    await Promise.all(orms.map((orm) => orm.then((opened) => opened.close()).catch(() => undefined)));
  }
}
