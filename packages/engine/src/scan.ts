// Stage 4, scan: send the file to a scanner server through the dispatcher, with the priority of the
// trigger, and turn the dispatcher's outcome into a verdict plus the signature stamp to record.
import type { Dispatcher, Priority } from '@avscan/dispatch';
import type { FileAccess } from './access.js';
import type { Verdict } from './answer.js';

export interface ScanDone {
  readonly verdict: Verdict;
  /** Signature time of the server that answered (0 when it reports none). */
  readonly sigTimestamp: number;
  readonly server: string | null;
}

export async function scanFile(dispatcher: Dispatcher, access: FileAccess, priority: Priority): Promise<ScanDone> {
  const outcome = await dispatcher.scan(
    access.file !== undefined ? { file: access.file, priority } : { data: access.data!, priority },
  );
  const sigTimestamp = outcome.sigTimestamp ?? 0;
  switch (outcome.result) {
    case 'clean':
      return { verdict: { result: 'clean' }, sigTimestamp, server: outcome.server };
    case 'infected':
      return { verdict: { result: 'infected', threats: outcome.threats }, sigTimestamp, server: outcome.server };
    case 'failure':
      return { verdict: { result: 'failure', kind: outcome.kind, message: outcome.message }, sigTimestamp, server: outcome.server };
  }
}
