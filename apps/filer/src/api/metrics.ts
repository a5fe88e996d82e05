// /metrics in Prometheus text format (prom-client): decisions by reason and scans by verdict (from
// each engine's counters, read at scrape time), queue depth and per-server state (from the live
// dispatchers), and a scan latency histogram fed by the engine's diagnostics channels (dispatched → verdict, keyed by scanId) — which fire
// only when a scan is dispatched, so the scan-current fast path pays nothing.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { channels } from '@avscan/engine';
import type { ManagedRuntime } from '../runtime/managed.js';

export interface FilerMetrics {
  readonly registry: Registry;
  close(): void;
}

export function createMetrics(rt: ManagedRuntime): FilerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'avscan_filer_' });
  const svms = (): string[] => rt.svms().map((s) => s.name);
  new Counter({
    name: 'avscan_decisions_total', help: 'Answers of the engine, by SVM and reason', labelNames: ['svm', 'reason'], registers: [registry],
    collect() {
      this.reset();
      for (const svm of svms()) for (const [reason, n] of Object.entries(rt.engine(svm).metrics().reasons)) this.inc({ svm, reason }, n);
    },
  });
  new Counter({
    name: 'avscan_scans_total', help: 'Scans, by SVM and verdict', labelNames: ['svm', 'verdict'], registers: [registry],
    collect() {
      this.reset();
      for (const svm of svms()) for (const [verdict, n] of Object.entries(rt.engine(svm).metrics().verdicts)) this.inc({ svm, verdict }, n);
    },
  });
  new Gauge({
    name: 'avscan_scans_in_flight', help: 'Scans in flight, by SVM', labelNames: ['svm'], registers: [registry],
    collect() {
      for (const svm of svms()) this.set({ svm }, rt.engine(svm).metrics().inFlight);
    },
  });
  new Gauge({
    name: 'avscan_queue_depth', help: 'Scan requests waiting for a scanner server, by SVM', labelNames: ['svm'], registers: [registry],
    collect() {
      for (const svm of svms()) this.set({ svm }, rt.dispatcher(svm)?.metrics().queued ?? 0);
    },
  });
  new Gauge({
    name: 'avscan_server_up', help: 'Scanner server state (1 connected, 0 otherwise), by SVM, pool and server', labelNames: ['svm', 'pool', 'server', 'state'], registers: [registry],
    collect() {
      this.reset();
      for (const svm of svms()) {
        for (const s of rt.dispatcher(svm)?.serverStatus() ?? []) this.set({ svm, pool: s.pool, server: s.server, state: s.state }, s.state === 'connected' ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'avscan_server_in_flight', help: 'Requests in flight per scanner server', labelNames: ['svm', 'server'], registers: [registry],
    collect() {
      this.reset();
      for (const svm of svms()) for (const s of rt.dispatcher(svm)?.serverStatus() ?? []) this.set({ svm, server: s.server }, s.in_flight);
    },
  });
  const latency = new Histogram({
    name: 'avscan_scan_duration_seconds', help: 'From dispatch to verdict, by verdict', labelNames: ['verdict'], registers: [registry],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  });
  const started = new Map<string, number>();
  const onDispatched = (m: unknown): void => {
    const id = (m as { scanId?: string }).scanId;
    if (id !== undefined && started.size < 100_000) started.set(id, performance.now());
  };
  const onVerdict = (m: unknown): void => {
    const { scanId: decisionId, verdict } = m as { scanId?: string; verdict?: { result?: string } };
    const t = decisionId === undefined ? undefined : started.get(decisionId);
    if (t === undefined) return;
    started.delete(decisionId!);
    latency.observe({ verdict: verdict?.result ?? 'unknown' }, (performance.now() - t) / 1000);
  };
  channels.dispatched.subscribe(onDispatched);
  channels.verdict.subscribe(onVerdict);
  return {
    registry,
    close() {
      channels.dispatched.unsubscribe(onDispatched);
      channels.verdict.unsubscribe(onVerdict);
    },
  };
}
