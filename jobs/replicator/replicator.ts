import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { databaseName } from '@popug/lib/db/database';
import type { EntityManager, OrmOptions } from '@popug/lib/db/orm';
import { isDatabaseMissing } from '@popug/lib/db/readiness';
import { executeSql } from '@popug/lib/db/sql';
import type { Env } from '@popug/lib/env';
import type { Logger } from '@popug/lib/logger';
import { createAdminAlertQueue, type AdminAlertQueue } from '@popug/lib/admin-alerts';
import { logConnectionErrors } from '@popug/lib/connection-errors';
import { createRedis } from '@popug/lib/queues';
import { PoisonEventError, type ReplicaDefinition, type ReplicaSettings } from '@popug/lib/replication/replica';
import { markCompleteAsOf } from '@popug/lib/replication/watermark';
import { inPassSpan } from '@popug/lib/tracing/replication-pass';
import { catchUp } from './catch-up';
import { drainSource, type Source } from './collect';
import { DatabaseHandles } from './databases';
import { IncidentNotifier } from './incident-notifier';
import { masterDatabase } from './master/database';
import { PassLock } from './pass-lock';
import { finishPass, startPass } from './pass-history';
import { missingDatabases } from './missing-databases';

export interface SourceDefinition {
  name: Source['name'];
  database: OrmOptions;
}

export interface PassReport {
  collected: number;
  /** When each source was found drained this pass (source clock); a failed source has none. */
  drainedAt: Record<string, string>;
  applied: Record<string, number>;
  failed: Record<string, string>;
}

/** The pass span's attributes: what it moved, and what failed. */
function describePass(report: PassReport) {
  const applied = Object.values(report.applied).reduce((sum, count) => sum + count, 0);
  return { 'popug.replication.collected': report.collected, 'popug.replication.applied': applied, 'popug.replication.failed': Object.keys(report.failed).length };
}

/**
 * The pass runner. One pass, holding the pass lock: collect every source's outbox into
 * the master log (in the sources' order), then bring each replica up to the head, all
 * replicas side by side. A failing source or replica never holds up the others: its
 * failure goes into the report and to the incident notifier, and the next pass retries it.
 */
export class Replicator {
  private readonly databases: DatabaseHandles;
  private readonly lock: PassLock;
  private readonly incidents: IncidentNotifier;
  private readonly worker = `${hostname()}:${process.pid}`;
  /** Auth's `admin-alerts` queue, where the alert outbox hands its alerts (auth mails the admins). */
  private readonly alertRedis: Redis;
  private readonly alertQueue: AdminAlertQueue;

  constructor(
    private readonly env: Env,
    private readonly logger: Logger,
    private readonly sources: readonly SourceDefinition[],
    private readonly replicas: readonly ReplicaDefinition[],
  ) {
    this.databases = new DatabaseHandles(env, logger);
    this.lock = new PassLock(env, logger);
    this.alertRedis = logConnectionErrors(createRedis(env, 'producer'), logger, 'admin alert producer');
    this.alertQueue = logConnectionErrors(createAdminAlertQueue(env, this.alertRedis), logger, 'admin alert queue');
    this.incidents = new IncidentNotifier(env, logger, this.alertQueue);
  }

  /**
   * Runs one pass, or answers 'busy' when a pass is running anywhere (this process included).
   * A pass that runs is a trace of its own, linked to what started it and to its events'
   * traces (lib/tracing/replication-pass.ts).
   */
  async runPass(): Promise<PassReport | 'busy'> {
    const master = await this.master(); // opened on first use; `npm run migrate` created and migrated it
    return this.lock.tryHold(() => inPassSpan('replication pass', describePass, () => this.pass(master)));
  }

  /** Runs `work` while no pass can run, here or in any other process: a rebuild uses it. */
  async exclusively<T>(work: () => Promise<T>): Promise<T> {
    return this.lock.hold(work);
  }

  /** What the replicas' handlers are given (rather than reading the environment themselves). */
  get replicaSettings(): ReplicaSettings {
    return this.env;
  }

  master(): Promise<EntityManager> {
    return this.databases.em(masterDatabase);
  }

  replicaEm(replica: ReplicaDefinition): Promise<EntityManager> {
    return this.databases.em(replica.database);
  }

  async close(): Promise<void> {
    await this.lock.close();
    await this.databases.close();
    await this.alertQueue.close();
    this.alertRedis.disconnect();
  }

  private async pass(master: EntityManager): Promise<PassReport> {
    const id = await startPass(master, this.worker);
    const report: PassReport = { collected: 0, drainedAt: {}, applied: {}, failed: {} };
    const missing = await missingDatabases(master);
    for (const source of this.sources) await this.collect(master, source, report, missing);
    await this.incidents.refusedEvents(master);
    const fence = await this.fenceOf(master, report);
    await Promise.all(this.replicas.map((replica) => this.apply(master.fork(), replica, report, fence, missing)));
    // Incidents recorded by this pass (or by one that died before telling them) are told now.
    await this.incidents.tell(master);
    const applied = Object.values(report.applied).reduce((sum, count) => sum + count, 0);
    await finishPass(master, id, { collected: report.collected, applied });
    return report;
  }

  private async collect(master: EntityManager, source: SourceDefinition, report: PassReport, missing: Set<string>): Promise<void> {
    const database = databaseName(this.env, source.database.database);
    try {
      const orm = await this.databases.orm(source.database);
      const from = { name: source.name, em: () => orm.em.fork() };
      const drained = await drainSource(master, from, this.env.REPLICATION_BATCH_SIZE);
      report.collected += drained.copied;
      report.drainedAt[source.name] = drained.drainedAt;
      if (missing.has(database)) await this.incidents.databaseBack(master, database);
    } catch (error) {
      this.databases.forget(source.database);
      report.failed[`source:${source.name}`] = (error as Error).message;
      if (isDatabaseMissing(error)) await this.incidents.databaseMissing(master, database);
      else this.logger.warn({ err: error, source: source.name }, 'collect failed; retried next pass');
    }
  }

  /**
   * The completeness fence of this pass (docs/architecture.md, Business days): when every
   * source was drained, the head of the log those drains left and each drain's instant;
   * null when a source failed (no replica can be called complete by this pass).
   */
  private async fenceOf(master: EntityManager, report: PassReport): Promise<{ head: string; drainedAt: string[] } | null> {
    if (this.sources.some((source) => report.drainedAt[source.name] === undefined)) return null;
    const [head] = await executeSql<{ version: string }>(master, 'select coalesce(max(version), 0)::text as version from change_log');
    return { head: head?.version ?? '0', drainedAt: Object.values(report.drainedAt) };
  }

  private async apply(
    master: EntityManager,
    replica: ReplicaDefinition,
    report: PassReport,
    fence: { head: string; drainedAt: string[] } | null,
    missing: Set<string>,
  ): Promise<void> {
    const database = databaseName(this.env, replica.database.database);
    try {
      const orm = await this.databases.orm(replica.database);
      const result = await catchUp(master, () => orm.em.fork(), replica, this.env, this.env.REPLICATION_BATCH_SIZE);
      report.applied[replica.name] = result.applied;
      // Applied up to the head the drains left: everything committed before them is here.
      if (fence) await markCompleteAsOf(orm.em.fork(), fence.head, fence.drainedAt);
      await this.incidents.succeeded(master, replica.name, result);
      await this.tellRecorded(master, orm.em.fork(), replica);
      if (missing.has(database)) await this.incidents.databaseBack(master, database);
    } catch (error) {
      if (!isDatabaseMissing(error)) return this.applyFailed(master, replica, error, report);
      // Not a replica incident: the database is gone, and nothing here creates it again.
      this.databases.forget(replica.database);
      report.failed[replica.name] = (error as Error).message;
      await this.incidents.replicaDatabaseMissing(master, replica.name, database, (error as Error).message);
    }
  }

  /** Hands what the replica recorded for the admins to the alert outbox; what fails here is handed over next pass. */
  private async tellRecorded(master: EntityManager, em: EntityManager, replica: ReplicaDefinition): Promise<void> {
    if (!replica.incidents) return;
    try {
      await this.incidents.replicaRecorded(master, replica.name, em, replica.incidents);
    } catch (error) {
      this.logger.warn({ err: error, replica: replica.name }, 'replica incidents not told; told next pass');
    }
  }

  private async applyFailed(master: EntityManager, replica: ReplicaDefinition, error: unknown, report: PassReport): Promise<void> {
    const poison = error instanceof PoisonEventError ? error : null;
    // A poison is about one event; anything else may be the connection, so reopen it next time.
    if (!poison) this.databases.forget(replica.database);
    const reason = (error as Error).message;
    report.failed[replica.name] = reason;
    this.logger.error({ err: error, replica: replica.name, poisonVersion: poison?.version }, 'replica apply failed');
    const watermark = poison ? await this.watermarkOf(replica) : null;
    await this.incidents.failed(master, replica.name, { reason, poisonVersion: poison?.version ?? null, watermark });
  }

  /** The replica's own watermark, or null when it cannot be read. */
  private async watermarkOf(replica: ReplicaDefinition): Promise<string | null> {
    try {
      const [mark] = await executeSql<{ version: string }>(await this.replicaEm(replica), 'select version::text as version from replication_watermark where id = 1');
      return mark?.version ?? null;
    } catch {
      return null;
    }
  }
}
