// Stage 4, scan: send the file to a scanner server through the dispatcher, with the priority of the
// trigger, and turn the dispatcher's outcome into a verdict plus the signature stamp to record.
import type { EngineDispatcher } from './options.js';
import type { ScanOutcome } from '@avscan/dispatch';
import type { FileAccess } from './access.js';
import type { Verdict } from './answer.js';
import type { Attributes } from '@avscan/store';
import type { Flight } from './flight.js';

/** What one scan (started by one access, joined by others) produced. */
export interface ScanRun {
  readonly verdict: Verdict;
  /** The attributes before the scan (the failure policy reads the file's history from them). */
  readonly prior: Attributes | undefined;
}

export interface ScanDone {
  readonly verdict: Verdict;
  /** Signature time of the server that answered (0 when it reports none). */
  readonly sigTimestamp: number;
  /** Signature stamp of the server that answered (clamd version/db, ICAP ISTag), when it reports one. */
  readonly sigStamp: string | null;
  readonly server: string | null;
}

/**
 * Submits the scan at the flight's priority, raises the request when a more urgent waiter joins, and
 * cancels it (queue entry or scanner connection) when the flight is abandoned: rejects then.
 */
export function scanFile(dispatcher: EngineDispatcher, access: FileAccess, flight: Flight<unknown>): Promise<ScanDone> {
  const priority = flight.priority;
  // A pinned flight is never abandoned: its request needs no signal (nor the listener it costs).
  const signal = flight.pinned ? undefined : flight.signal;
  const pending = dispatcher.submit(access.file !== undefined ? { file: access.file, priority, signal } : { data: access.data!, priority, signal });
  flight.onRaise = pending.raise;
  // One `then` on the dispatcher's promise (no async frame): the verdict is on every access's critical path.
  return pending.outcome.then(
    (outcome) => {
      flight.onRaise = null;
      return scanDone(outcome);
    },
    (err: unknown) => {
      flight.onRaise = null;
      throw err;
    },
  );
}

function scanDone(outcome: ScanOutcome): ScanDone {
  const sigTimestamp = outcome.sigTimestamp ?? 0;
  const sigStamp = outcome.stamp;
  switch (outcome.result) {
    case 'clean':
      return { verdict: kClean, sigTimestamp, sigStamp, server: outcome.server };
    case 'infected':
      return { verdict: { result: 'infected', threats: outcome.threats }, sigTimestamp, sigStamp, server: outcome.server };
    case 'failure':
      return { verdict: { result: 'failure', kind: outcome.kind, message: outcome.message }, sigTimestamp, sigStamp, server: outcome.server };
  }
}

/** Verdicts are read-only data: every clean scan shares one. */
const kClean: Verdict = Object.freeze({ result: 'clean' });
