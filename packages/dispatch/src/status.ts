// Read-only views of the servers: ONTAP `server-status` records, the signature watermark and the
// per-server metrics. Pure functions of the servers' state; the dispatcher serves them.
import { activeTier } from './select.js';
import type { PoolServer } from './server.js';
import type { ServerMetrics, ServerStatus, SignatureWatermark } from './types.js';

export function serverStatusOf(servers: readonly PoolServer[]): ServerStatus[] {
  return servers.map((s) => ({
    ip: s.address.ip,
    state: s.state,
    type: s.role === 'primary' ? 'primary' : 'backup',
    update_time: new Date(s.updateTime).toISOString(),
    vendor: s.vendor,
    version: s.version,
    disconnected_reason: s.reason,
    message: s.message,
    server: s.address.raw,
    pool: s.pool,
    role: s.role,
    in_flight: s.inFlight,
    signature: s.stamp,
    signature_timestamp: s.sigTimestamp,
    path_fallbacks: s.client.pathFallbacks ?? 0,
  }));
}

/** Newest signature time and the stamps of the healthy active servers; `null` when none is connected. */
export function signatureWatermarkOf(servers: readonly PoolServer[]): SignatureWatermark | null {
  const tier = activeTier(servers);
  if (tier === null) return null;
  let timestamp = 0;
  const stamps = new Set<string>();
  for (const s of servers) {
    if (!s.connected || s.role !== tier) continue;
    if (s.sigTimestamp !== null && s.sigTimestamp > timestamp) timestamp = s.sigTimestamp;
    if (s.stamp !== null) stamps.add(s.stamp);
  }
  return { timestamp, stamps: [...stamps] };
}

export function serverMetricsOf(servers: readonly PoolServer[]): ServerMetrics[] {
  // The histograms hold microseconds.
  const ms = (us: number): number => (Number.isFinite(us) ? us / 1000 : 0);
  return servers.map((s) => {
    const n = s.latency.count > 0;
    return {
      server: s.address.raw, state: s.state, inFlight: s.inFlight, ...s.counts, pathFallbacks: s.client.pathFallbacks ?? 0,
      p50: n ? ms(s.latency.percentile(50)) : 0, p99: n ? ms(s.latency.percentile(99)) : 0, mean: n ? ms(s.latency.mean) : 0,
    };
  });
}
