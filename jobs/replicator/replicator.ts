import { hostname } from 'node:os';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import {
  databaseName,
  databaseUrl,
  executeSql,
  openDatabase,
  PoisonEventError,
  type Env,
  type Logger,
  type MailQueue,
  type MikroORM,
  type OrmOptions,
  type ReplicaDefinition,
} from '@popug/lib';
import { mailIncident, recordFailure, recordSuccess, type Recipient } from './alerts';
import { catchUp } from './apply';
import { collectFrom, type Source } from './collect';
import { masterDatabase } from './master/database';

export interface SourceDefinition {
  name: Source['name'];
  database: OrmOptions;
}

export interface PassReport {
  collected: number;
  applied: Record<string, number>;
  failed: Record<string, string>;
}

/** Any number on this, unique to the replicator: held for the whole of a pass. */
const PASS_LOCK = 727_002;
/** Rows of replication_pass kept. */
const KEPT_PASSES = 100_000;

/**
 * One replication pass: collect every source's outbox into the master log, then bring
 * each replica up to the head. Passes never overlap, across processes too (a PostgreSQL
 * advisory lock on the master database); a failing replica never holds up the others.
 */
export class Replicator {
  private readonly orms = new Map<string, Promise<MikroORM>>();
  private lock: Client | undefined;
  /**
   * Set while this instance runs a pass or an exclusive section. The advisory lock is
   * re-entrant within one PostgreSQL session, so it cannot keep two of them apart in one
   * process: this does.
   */
  private holder: Promise<void> | undefined;
  private readonly worker = `${hostname()}:${process.pid}`;

  constructor(
    private readonly env: Env,
    private readonly logger: Logger,
    private readonly sources: readonly SourceDefinition[],
    private readonly replicas: readonly ReplicaDefinition[],
    private readonly mailQueue: MailQueue,
  ) {}

  async runPass(): Promise<PassReport | 'busy'> {
    if (this.holder) return 'busy';
    return this.holdLocally(async () => {
      await this.master(); // creates and migrates the master database on first use
      const lock = await this.lockClient();
      const acquired = await this.lockQuery(lock, 'select pg_try_advisory_lock($1) as ok');
      if (!acquired) return 'busy';
      try {
        return await this.passHoldingLock();
      } finally {
        await this.lockQuery(lock, 'select pg_advisory_unlock($1) as ok').catch(() => undefined);
      }
    });
  }

  /** Runs `work` while no pass can start, here or in any other process: a rebuild uses it. */
  async exclusively<T>(work: () => Promise<T>): Promise<T> {
    return this.holdLocally(async () => {
      const lock = await this.lockClient();
      await this.lockQuery(lock, 'select true as ok from pg_advisory_lock($1)');
      try {
        return await work();
      } finally {
        await this.lockQuery(lock, 'select pg_advisory_unlock($1) as ok').catch(() => undefined);
      }
    });
  }

  async master(): Promise<EntityManager> {
    return (await this.orm(masterDatabase)).em.fork();
  }

  async replicaEm(replica: ReplicaDefinition): Promise<EntityManager> {
    return (await this.orm(replica.database)).em.fork();
  }

  async close(): Promise<void> {
    this.dropLockClient();
    const orms = [...this.orms.values()];
    this.orms.clear();
    await Promise.all(orms.map((orm) => orm.then((opened) => opened.close()).catch(() => undefined)));
  }

  private async passHoldingLock(): Promise<PassReport> {
    const master = await this.master();
    const [pass] = await master.execute<{ id: string }[]>('insert into replication_pass (worker) values (?) returning id', [this.worker]);
    const report: PassReport = { collected: 0, applied: {}, failed: {} };
    for (const source of this.sources) {
      try {
        const sourceOrm = await this.orm(source.database);
        for (;;) {
          const { read, copied } = await collectFrom(master, { name: source.name, em: () => sourceOrm.em.fork() }, this.env.REPLICATION_BATCH_SIZE);
          report.collected += copied;
          if (read < this.env.REPLICATION_BATCH_SIZE) break;
        }
      } catch (error) {
        this.forget(source.database);
        this.logger.warn({ err: error, source: source.name }, 'collect failed; retried next pass');
        report.failed[`source:${source.name}`] = (error as Error).message;
      }
    }
    await Promise.all(this.replicas.map((replica) => this.applyTo(master.fork(), replica, report)));
    const applied = Object.values(report.applied).reduce((sum, count) => sum + count, 0);
    await master.execute('update replication_pass set finished_at = clock_timestamp(), collected = ?, applied = ? where id = ?', [
      report.collected,
      applied,
      pass?.id,
    ]);
    // The pass history is for operators and tests: the latest passes are plenty (a day at 1 s).
    await master.execute('delete from replication_pass where id <= ?::bigint - ?', [pass?.id, KEPT_PASSES]);
    return report;
  }

  private async applyTo(master: EntityManager, replica: ReplicaDefinition, report: PassReport): Promise<void> {
    try {
      const orm = await this.orm(replica.database);
      const result = await catchUp(master, () => orm.em.fork(), replica, this.env.REPLICATION_BATCH_SIZE);
      report.applied[replica.name] = result.applied;
      const change = await recordSuccess(master, replica.name, result.watermark, result.applied);
      if (change) {
        this.logger.info({ replica: replica.name }, 'replica recovered');
        await this.alert(replica.name, change, result.watermark);
      }
    } catch (error) {
      const poison = error instanceof PoisonEventError ? error : null;
      if (!poison) this.forget(replica.database);
      const reason = (error as Error).message;
      report.failed[replica.name] = reason;
      this.logger.error({ err: error, replica: replica.name, poisonVersion: poison?.version }, 'replica apply failed');
      const watermark = poison ? await this.watermarkOf(replica) : null;
      const change = await recordFailure(master, replica.name, reason, poison?.version ?? null, this.env.REPLICA_ALERT_AFTER_FAILURES, watermark);
      if (change) await this.alert(replica.name, change, reason);
    }
  }

  /** The replica's own watermark, or null when it cannot be read. */
  private async watermarkOf(replica: ReplicaDefinition): Promise<string | null> {
    try {
      const em = await this.replicaEm(replica);
      const [mark] = await executeSql<{ version: string }>(em, 'select version::text as version from replication_watermark where id = 1');
      return mark?.version ?? null;
    } catch {
      return null;
    }
  }

  private async alert(replica: string, change: Parameters<typeof mailIncident>[3], detail: string): Promise<void> {
    try {
      await mailIncident(this.mailQueue, await this.admins(), replica, change, detail);
    } catch (error) {
      this.logger.error({ err: error, replica }, 'replication alert not queued');
    }
  }

  /** Who hears about incidents: active holders of user:manage in auth, or the first admin. */
  private async admins(): Promise<Recipient[]> {
    const auth = this.sources.find((source) => source.name === 'auth');
    try {
      if (!auth) throw new Error('no auth source');
      const em = (await this.orm(auth.database)).em.fork();
      const rows = await em.execute<Recipient[]>(
        `select u.email, u.name from users u join role_permissions rp on rp.role = u.role
          where rp.permission = 'user:manage' and u.active order by u.created_at`,
      );
      if (rows.length) return rows;
    } catch (error) {
      this.logger.warn({ err: error }, 'admins unknown; alerting the first admin');
    }
    return [{ email: this.env.ADMIN_EMAIL, name: this.env.ADMIN_NAME }];
  }

  private orm(options: OrmOptions): Promise<MikroORM> {
    let orm = this.orms.get(options.database);
    if (!orm) {
      orm = openDatabase(this.env, { ...options, logger: this.logger, poolMax: 4 });
      orm.catch(() => this.orms.delete(options.database));
      this.orms.set(options.database, orm);
    }
    return orm;
  }

  /** A database that failed is opened afresh next time, so a restarted server is picked up. */
  private forget(options: OrmOptions): void {
    const orm = this.orms.get(options.database);
    this.orms.delete(options.database);
    void orm?.then((opened) => opened.close(true)).catch(() => undefined);
  }

  /** One holder at a time in this process; the others wait their turn. */
  private async holdLocally<T>(work: () => Promise<T>): Promise<T> {
    while (this.holder) await this.holder;
    let release = () => {};
    this.holder = new Promise<void>((resolve) => (release = resolve));
    try {
      return await work();
    } finally {
      this.holder = undefined;
      release();
    }
  }

  /** A lock statement; a connection that fails one is dropped, which also frees the lock. */
  private async lockQuery(lock: Client, sql: string): Promise<boolean> {
    try {
      const [row] = (await lock.query<{ ok: boolean }>(sql, [PASS_LOCK])).rows;
      return row?.ok === true;
    } catch (error) {
      this.dropLockClient();
      throw error;
    }
  }

  private async lockClient(): Promise<Client> {
    if (this.lock) return this.lock;
    const client = new Client({ connectionString: databaseUrl(this.env, databaseName(this.env, 'master')) });
    client.on('error', () => this.dropLockClient());
    await client.connect();
    this.lock = client;
    return client;
  }

  private dropLockClient(): void {
    const client = this.lock;
    this.lock = undefined;
    void client?.end().catch(() => undefined);
  }
}
