// The audit log service: per-SVM configuration (the seed's object-store audit API as plain functions
// the REST layer calls), the events it records, and the log writers.
//
// Events. Data events come from the engines' `answered` channel: every deny, every infected verdict
// and every access allowed without a scan because scanning failed or the file was over the size limit
// (`failure-allow`, `failure-allow-previously-clean`, `too-large` allowed), with the decision id and
// policy revision (so the decision can be replayed), operation, path, reason and client. Management
// events come from `recordManagement`, which the REST layer calls for every configuration change
// through either API. Both are appended to the store's `events` table (types `audit.data`,
// `audit.management`) — the committed events are the source of the log files — and only while the
// SVM's audit is enabled with that category on.
import diagnostics_channel from 'node:diagnostics_channel';
import type Database from 'better-sqlite3';
import { Cron } from 'croner';
import type { Answer, FileAccess } from '@avscan/engine';
import { Store } from '@avscan/store';
import { openNodeAppDb } from '../db/app-db.js';
import { FilerErrorCodes, show } from '../errors.js';
import type { FilerRuntime, SvmModel } from '../model.js';
import { cronOfFields } from '../schedule/parse.js';
import { AuditCodes, auditError, resolveLogPath, retentionMs, validateAuditConfig, type AuditConfig } from './config.js';
import { AuditLogWriter, type AuditWriterOptions } from './writer.js';
import { AuditStager } from './stage.js';

export interface AuditServiceOptions {
  /** Look for committed events this often (events other processes or nodes appended), ms. @default 1000 */
  readonly pollMs?: number;
  /** fsync each batch before its cursor moves. @default true */
  readonly fsync?: boolean;
  /** The client of an access (IP or user), when the data path knows it. @default `access.client` if present */
  readonly clientOf?: (access: FileAccess) => string | undefined;
  /** @default Date.now */
  readonly clock?: () => number;
  /** Crash-test fault injection, passed to the writers. */
  readonly faults?: AuditWriterOptions['faults'];
}

export interface ManagementChange {
  /** `ontap` or `onefs`. */
  readonly api: string;
  readonly method: string;
  /** The resource path of the change (`/api/protocols/vscan/<uuid>/on-access-policies/p1`). */
  readonly path: string;
  readonly user?: string;
  /** The request body (secrets removed by the caller). */
  readonly body?: unknown;
  /** Result: HTTP status or error code. */
  readonly result?: string | number;
}

/** Reasons of an access allowed without a scan that the audit log records. */
const kUnscannedAllowed: ReadonlySet<string> = new Set(['failure-allow', 'failure-allow-previously-clean', 'too-large']);

export function isAuditedAnswer(answer: Answer): boolean {
  return !answer.allow || answer.verdict?.result === 'infected' || kUnscannedAllowed.has(answer.reason);
}


export class AuditService {
  readonly #rt: FilerRuntime;
  readonly #db: Database.Database;
  readonly #ownDb: boolean;
  readonly #o: AuditServiceOptions;
  readonly #configs = new Map<string, AuditConfig>(); // by svm name
  readonly #writers = new Map<string, AuditLogWriter>();
  /** Scheduled rotations, by svm name (only while started). */
  readonly #crons = new Map<string, Cron>();
  readonly #pending = new Set<Promise<unknown>>();
  readonly #onAnswered: (m: unknown) => void;
  #timer: NodeJS.Timeout | undefined;
  #started = false;
  /** On a shared (PostgreSQL) store: copies this node's audit events into node.db for the writers (stage.ts). */
  readonly #stager: AuditStager | undefined;
  /** A staging pass per SVM while one runs; `again` asks it for one more pass. */
  readonly #staging = new Map<string, { run: Promise<void>; again: boolean }>();

  constructor(runtime: FilerRuntime, options: AuditServiceOptions & { readonly db?: Database.Database } = {}) {
    this.#rt = runtime;
    this.#ownDb = options.db === undefined;
    this.#db = options.db ?? openNodeAppDb(runtime);
    this.#o = options;
    this.#stager = runtime.store instanceof Store ? undefined : new AuditStager(this.#db, runtime.store);
    for (const row of this.#db.prepare('SELECT config FROM audit_config').all() as Array<{ config: string }>) {
      const c = JSON.parse(row.config) as AuditConfig;
      if (runtime.svm(c.svm.name) !== undefined) this.#configs.set(c.svm.name, c);
    }
    this.#onAnswered = (m) => {
      const { answer, access, operation } = m as { answer: Answer; access: FileAccess; operation: string };
      this.#data(answer, access, operation);
    };
  }

  // --- configuration (seed: /protocols/audit/{svm.uuid}/object-store) ----------------------------

  #svm(uuid: string): SvmModel {
    const svm = this.#rt.svms().find((s) => s.uuid === uuid);
    if (svm === undefined) throw auditError(FilerErrorCodes.NOT_FOUND, AuditCodes.SVM_LOOKUP_FAILED, `svm uuid ${show(uuid)} lookup failed`, 'svm.uuid');
    return svm;
  }

  #save(c: AuditConfig): void {
    this.#db.prepare('INSERT INTO audit_config (svm_uuid, svm, config) VALUES (?, ?, ?) ON CONFLICT (svm_uuid) DO UPDATE SET config = excluded.config')
      .run(c.svm.uuid, c.svm.name, JSON.stringify(c));
    this.#configs.set(c.svm.name, c);
    if (this.#started) this.#restartWriter(c.svm.name);
  }

  /** POST: creates the SVM's configuration with the seed's defaults. */
  create(svmUuid: string, body: unknown): AuditConfig {
    const svm = this.#svm(svmUuid);
    if (this.#configs.has(svm.name)) throw auditError(FilerErrorCodes.AUDIT_EXISTS, AuditCodes.EXISTS, `audit configuration is already present for svm ${show(svm.name)}`, 'svm.uuid');
    const { config } = validateAuditConfig(this.#rt, { uuid: svm.uuid, name: svm.name }, body);
    this.#save(config);
    return config;
  }

  /** GET one. */
  get(svmUuid: string): AuditConfig {
    const svm = this.#svm(svmUuid);
    const c = this.#configs.get(svm.name);
    if (c === undefined) throw auditError(FilerErrorCodes.AUDIT_NOT_FOUND, AuditCodes.NOT_FOUND, "entry doesn't exist", 'svm.uuid');
    return c;
  }

  /** GET the collection (`*`), with the seed's equality filters on `enabled`, `events.*`, `log_path`, `log.format`. */
  list(filter: { enabled?: boolean; 'events.data'?: boolean; 'events.management'?: boolean; log_path?: string; 'log.format'?: string; 'svm.name'?: string } = {}): AuditConfig[] {
    return [...this.#configs.values()].filter((c) =>
      (filter.enabled === undefined || c.enabled === filter.enabled)
      && (filter['events.data'] === undefined || c.events.data === filter['events.data'])
      && (filter['events.management'] === undefined || c.events.management === filter['events.management'])
      && (filter.log_path === undefined || c.log_path === filter.log_path)
      && (filter['log.format'] === undefined || c.log.format === filter['log.format'])
      && (filter['svm.name'] === undefined || c.svm.name === filter['svm.name']));
  }

  /** PATCH: merges and validates; `log.rotation.now: true` rotates once saved. */
  patch(svmUuid: string, body: unknown): AuditConfig {
    const svm = this.#svm(svmUuid);
    const prior = this.#configs.get(svm.name);
    if (prior === undefined) {
      throw auditError(FilerErrorCodes.AUDIT_NOT_FOUND, AuditCodes.NO_CONFIG_TO_MODIFY, 'failed to modify an audit configuration because no audit configuration exists for the svm', 'svm.uuid');
    }
    const { config, rotateNow } = validateAuditConfig(this.#rt, { uuid: svm.uuid, name: svm.name }, body, prior);
    if (rotateNow && !config.enabled) throw auditError(FilerErrorCodes.AUDIT_STATE, AuditCodes.ROTATE_DISABLED, 'cannot rotate audit log, auditing is not enabled for this svm', 'log.rotation.now');
    this.#save(config);
    if (rotateNow) this.rotate(svmUuid);
    return config;
  }

  /** DELETE: refused while enabled unless `force`. */
  delete(svmUuid: string, options: { force?: boolean } = {}): void {
    const svm = this.#svm(svmUuid);
    const c = this.#configs.get(svm.name);
    if (c === undefined) throw auditError(FilerErrorCodes.AUDIT_NOT_FOUND, AuditCodes.NOT_FOUND, "entry doesn't exist", 'svm.uuid');
    if (c.enabled && options.force !== true) {
      throw auditError(FilerErrorCodes.AUDIT_STATE, AuditCodes.DELETE_WHILE_ENABLED, 'failed to delete audit configuration for the svm because audit is enabled for the svm', 'enabled');
    }
    this.#stopWriter(svm.name, true);
    this.#db.prepare('DELETE FROM audit_config WHERE svm_uuid = ?').run(svm.uuid);
    this.#configs.delete(svm.name);
  }

  /** Rotates the SVM's log now (PATCH `log.rotation.now`). Returns the archive's name, if there was anything to archive. */
  rotate(svmUuid: string): string | undefined {
    const svm = this.#svm(svmUuid);
    const c = this.#configs.get(svm.name);
    if (c === undefined) throw auditError(FilerErrorCodes.AUDIT_NOT_FOUND, AuditCodes.NO_CONFIG_TO_ROTATE, 'audit configuration is absent for rotate', 'svm.uuid');
    if (!c.enabled) throw auditError(FilerErrorCodes.AUDIT_STATE, AuditCodes.ROTATE_DISABLED, 'cannot rotate audit log, auditing is not enabled for this svm', 'log.rotation.now');
    const w = this.#writer(svm.name);
    w.pump();
    return w.rotate();
  }

  // --- events ----------------------------------------------------------------------------------------

  #data(answer: Answer, access: FileAccess, operation: string): void {
    if (!isAuditedAnswer(answer)) return;
    const slash = access.volume.indexOf('/');
    const svm = slash < 0 ? undefined : access.volume.slice(0, slash);
    const c = svm === undefined ? undefined : this.#configs.get(svm);
    if (c === undefined || !c.enabled || !c.events.data) return;
    if (!this.#rt.volumes(c.svm.name).some((v) => v.storeKey === access.volume)) return;
    const client = this.#o.clientOf?.(access) ?? (access as { client?: string }).client;
    const v = answer.verdict;
    this.#track(this.#rt.store.appendEvent({
      type: 'audit.data',
      svm: c.svm.name,
      node: this.#rt.store.nodeId,
      filePath: access.path,
      reason: answer.reason,
      details: {
        operation,
        allow: answer.allow,
        decision_id: answer.decisionId,
        policy_revision: answer.policyRevision,
        ...(answer.rule !== undefined ? { rule: answer.rule } : {}),
        ...(client !== undefined ? { client } : {}),
        ...(v !== undefined ? { verdict: v.result } : {}),
        ...(v?.result === 'infected' ? { threats: v.threats } : {}),
        ...(v?.result === 'failure' ? { failure: v.kind } : {}),
      },
    }), c.svm.name);
  }

  /**
   * Records a configuration change (the REST layer calls this for every change, through either API).
   * Resolves with the event id once committed, or `undefined` when the SVM does not audit management
   * events.
   */
  async recordManagement(svm: string, change: ManagementChange): Promise<number | undefined> {
    const c = this.#configs.get(svm);
    if (c === undefined || !c.enabled || !c.events.management) return undefined;
    const p = this.#rt.store.appendEvent({
      type: 'audit.management',
      svm,
      node: this.#rt.store.nodeId,
      reason: `${change.method} ${change.path}`,
      details: {
        api: change.api,
        method: change.method,
        resource: change.path,
        ...(change.user !== undefined ? { user: change.user } : {}),
        ...(change.body !== undefined ? { body: change.body as Record<string, unknown> } : {}),
        ...(change.result !== undefined ? { result: change.result } : {}),
      },
    });
    this.#track(p, svm);
    return p;
  }

  #track(p: Promise<unknown>, svm: string): void {
    const t = p.then(() => this.#pump(svm), () => undefined).finally(() => this.#pending.delete(t));
    this.#pending.add(t);
  }

  // --- writers ---------------------------------------------------------------------------------------

  #writer(svm: string): AuditLogWriter {
    let writer = this.#writers.get(svm);
    if (writer === undefined) {
      const c = this.#configs.get(svm)!;
      const target = resolveLogPath(this.#rt, svm, c.log_path);
      writer = new AuditLogWriter(this.#db, {
        svm, dir: target.dir, rotationSize: c.log.rotation.size, retentionCount: c.log.retention.count, retentionMs: retentionMs(c),
        fsync: this.#o.fsync ?? true, ...(this.#o.clock ? { clock: this.#o.clock } : {}), ...(this.#o.faults ? { faults: this.#o.faults } : {}),
      });
      this.#writers.set(svm, writer);
    }
    return writer;
  }

  /** (Re)creates the SVM's scheduled rotation from its configuration. */
  #schedule(svm: string): void {
    this.#crons.get(svm)?.stop();
    this.#crons.delete(svm);
    const c = this.#configs.get(svm);
    const schedule = c?.log.rotation.schedule;
    if (!this.#started || c === undefined || !c.enabled || schedule === undefined) return;
    this.#crons.set(svm, new Cron(cronOfFields(schedule, 0), { legacyMode: true, protect: true, unref: true }, () => {
      try {
        const w = this.#writer(svm);
        w.pump();
        w.rotate();
      } catch {
        // as in #pump: retried at the next time
      }
    }));
  }

  #stopWriter(svm: string, forget: boolean): void {
    this.#crons.get(svm)?.stop();
    this.#crons.delete(svm);
    this.#writers.get(svm)?.close();
    this.#writers.delete(svm);
    if (forget) this.#db.prepare('DELETE FROM audit_cursor WHERE svm = ?').run(svm);
  }

  #restartWriter(svm: string): void {
    this.#stopWriter(svm, false);
    this.#schedule(svm);
    const c = this.#configs.get(svm);
    if (c?.enabled === true) this.#pump(svm);
  }

  #pump(svm: string): void {
    void this.#pumped(svm);
  }

  /** Writes the SVM's committed events; on SQLite synchronously, on PostgreSQL after staging them. */
  async #pumped(svm: string): Promise<void> {
    const c = this.#configs.get(svm);
    if (c === undefined || !c.enabled) return;
    if (this.#stager !== undefined) await this.#stage(svm);
    try {
      this.#writer(svm).pump();
    } catch {
      // The log folder may be gone or full: the events stay committed and are written on a later pump.
    }
  }

  /** One staging loop per SVM: callers during a pass get one more pass (bounded), not one each. */
  #stage(svm: string): Promise<void> {
    const running = this.#staging.get(svm);
    if (running !== undefined) {
      running.again = true;
      return running.run;
    }
    const state = { run: Promise.resolve(), again: true };
    state.run = (async () => {
      try {
        for (let pass = 0; state.again && pass < 100; pass++) {
          state.again = false;
          // PostgreSQL down: the events stay there and are staged by a later pump (the poll).
          await this.#stager!.stage(svm).catch(() => 0);
        }
      } finally {
        // In the same step as the last `again` check: a later caller starts a new loop.
        this.#staging.delete(svm);
      }
    })();
    this.#staging.set(svm, state);
    return state.run;
  }

  /** Subscribes to the engines' answers and starts the writers and the poll. */
  start(): this {
    if (this.#started) return this;
    this.#started = true;
    diagnostics_channel.subscribe('avscan:engine:answered', this.#onAnswered);
    for (const svm of this.#configs.keys()) {
      this.#schedule(svm);
      this.#pump(svm);
    }
    this.#timer = setInterval(() => {
      for (const svm of this.#configs.keys()) {
        this.#pump(svm);
        // Archives past their retention duration go even when no rotation happens.
        const c = this.#configs.get(svm);
        if (c?.enabled === true && retentionMs(c) > 0) this.#writers.get(svm)?.retain();
      }
    }, this.#o.pollMs ?? 1000);
    this.#timer.unref();
    return this;
  }

  /** Waits for events being recorded, then writes every committed event of enabled SVMs. */
  async flush(): Promise<void> {
    await Promise.all([...this.#pending]);
    await this.#rt.store.flush();
    await Promise.all([...this.#configs.keys()].map((svm) => this.#pumped(svm)));
  }

  async close(): Promise<void> {
    diagnostics_channel.unsubscribe('avscan:engine:answered', this.#onAnswered);
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.flush().catch(() => {});
    for (const svm of [...this.#writers.keys()]) this.#stopWriter(svm, false);
    this.#started = false;
    if (this.#ownDb) this.#db.close();
  }
}

export function createAuditService(runtime: FilerRuntime, options?: AuditServiceOptions & { readonly db?: Database.Database }): AuditService {
  return new AuditService(runtime, options);
}
