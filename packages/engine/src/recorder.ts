// Stage 5, record (the I/O half; record.ts builds the records): commits a verdict's attributes with
// the scan lock released in the same transaction, then the events and the infected-file action.
// Runs after the access was answered; failures are counted and reported as events, never thrown.
import type { ScanRecord } from '@avscan/store';
import type { AttributeSource } from './attributes.js';
import type { FileAccess } from './access.js';
import type { Verdict } from './answer.js';
import type { LeaseHolder } from './lock.js';
import type { Counters } from './metrics.js';
import type { ResolvedEngineOptions } from './options.js';
import { applyInfectedAction } from './record.js';
import type { EngineStore } from './store-port.js';

export interface Recording {
  /** `fileKeyString` of the file. */
  readonly k: string;
  /** `undefined` when nothing is to be written (a failure over clean history of the same content). */
  readonly record: ScanRecord | undefined;
  readonly access: FileAccess;
  readonly verdict: Verdict;
  readonly server: string | null;
  readonly lease: LeaseHolder;
}

export class Recorder {
  readonly #store: EngineStore;
  readonly #attrs: AttributeSource;
  readonly #counters: Counters;
  readonly #o: ResolvedEngineOptions;

  constructor(o: ResolvedEngineOptions, attrs: AttributeSource, counters: Counters) {
    this.#o = o;
    this.#store = o.store;
    this.#attrs = attrs;
    this.#counters = counters;
  }

  /** Commits the record (releasing the scan lock in the same transaction), then events and actions. */
  async persist(r: Recording): Promise<void> {
    const { k, record, access, verdict, server, lease } = r;
    if (record === undefined) {
      await lease.release();
    } else {
      try {
        await this.#store.recordScan(record, { releaseLock: lease.ownership, commitWithinMs: this.#o.recordDelayMs });
        lease.released();
      } catch (err) {
        await lease.release();
        // The cached attributes were never stored: forget them so the file is scanned again.
        this.#attrs.drop(k);
        this.#counters.recordErrors++;
        await this.#store.appendEvent({ type: 'store.record_failed', svm: this.#o.svm, node: this.#store.nodeId, filePath: access.path, reason: (err as Error).message }).catch(() => {});
      }
    }
    // A clean verdict has no event and no action: no call (and no promise) for most files.
    if (verdict.result === 'clean') return;
    await this.#afterVerdict(access, verdict, server).catch(() => {
      this.#counters.recordErrors++;
    });
  }

  /** Events and actions that follow a verdict: infected files are reported and handled; failures reported. */
  async #afterVerdict(access: FileAccess, v: Verdict, server: string | null): Promise<void> {
    const base = { svm: this.#o.svm, node: this.#store.nodeId, filePath: access.path, ...(server !== null ? { server } : {}) };
    if (v.result === 'infected') {
      let response: string;
      try {
        response = await applyInfectedAction(this.#o.infectedAction, access, this.#o.quarantineDir);
      } catch (err) {
        response = 'quarantined';
        await this.#store.appendEvent({ type: 'file.action_failed', ...base, reason: (err as Error).message });
      }
      await this.#store.appendEvent({ type: 'file.infected', ...base, details: { threats: v.threats, response } });
    } else if (v.result === 'failure') {
      await this.#store.appendEvent({ type: `scan.${v.kind}`, ...base, reason: v.message });
    }
  }
}
