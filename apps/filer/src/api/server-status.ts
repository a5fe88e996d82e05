// ONTAP's server-status and events records, in one place. Server state comes from each SVM's live
// dispatcher (`serverStatus()`: what is true now); events come from the store (`queryEvents`), where
// the engine also writes every server state change, so their history survives a restart.
import type { EventRecord } from '@avscan/store';
import type { ManagedRuntime } from '../runtime/managed.js';
import type { SvmModel } from '../model.js';
import type { Rec } from './records.js';

export function serverStatusRecords(rt: ManagedRuntime, nodeName: string): Rec[] {
  const out: Rec[] = [];
  for (const svm of rt.svms()) {
    for (const s of rt.dispatcher(svm.name)?.serverStatus() ?? []) {
      out.push({
        svm: { name: svm.name, uuid: svm.uuid },
        node: { name: nodeName, uuid: rt.store.nodeId },
        ip: s.ip,
        state: s.state === 'connected' ? 'connected' : 'disconnected',
        type: s.type,
        update_time: s.update_time,
        vendor: s.vendor,
        version: s.version,
        ...(s.state === 'connected' ? {} : { disconnected_reason: s.disconnected_reason ?? (s.state === 'connecting' ? 'session_uninitialized' : 'unknown') }),
        server: s.server,
        pool: s.pool,
        role: s.role,
        in_flight: s.in_flight,
        ...(s.signature === null ? {} : { signature: s.signature }),
      });
    }
  }
  return out;
}

export function eventRecord(svm: SvmModel, e: EventRecord): Rec {
  return {
    id: e.id,
    time: new Date(e.time).toISOString(),
    type: e.type,
    svm: { name: svm.name, uuid: svm.uuid },
    ...(e.node === null ? {} : { node: { name: e.node } }),
    ...(e.server === null ? {} : { server: e.server }),
    ...(e.filePath === null ? {} : { file_path: e.filePath }),
    ...(e.reason === null ? {} : { reason: e.reason }),
    ...(e.details === null ? {} : { details: e.details }),
  };
}
