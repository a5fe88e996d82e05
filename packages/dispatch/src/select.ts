// Server selection, pure (the dispatcher passes its live server views in). Rules (SPEC §7, CAVA):
// 1. Active tier: connected servers of primary pools; only while none is connected, those of
//    secondary pools; idle pools never.
// 2. Node n starts from server n of the tier (config order) and uses at most `maxServersPerNode` of
//    its connected servers.
// 3. Among those, a server with fewer than `maxConnections` requests in flight, the fewest in flight
//    winning; ties go to the earlier one in the node's order.
import type { PoolRole } from './config.js';

export interface ServerView {
  readonly role: PoolRole;
  readonly connected: boolean;
  readonly inFlight: number;
  /** Busy (EAGAIN) until this time in ms (performance.now() clock); 0 = not busy. */
  readonly busyUntil: number;
}

export interface SelectOptions {
  readonly nodeIndex: number;
  readonly maxServersPerNode: number;
  readonly maxConnections: number;
}

/** The tier in use now: 'primary', 'secondary', or null when no primary or secondary server is connected. */
export function activeTier(servers: readonly ServerView[]): 'primary' | 'secondary' | null {
  let secondary = false;
  for (const s of servers) {
    if (!s.connected) continue;
    if (s.role === 'primary') return 'primary';
    if (s.role === 'secondary') secondary = true;
  }
  return secondary ? 'secondary' : null;
}

/**
 * Indexes of the servers this node may use now, in the node's order. `out` is reused to avoid
 * allocating on the hot path; it is cleared first.
 */
export function nodeServers(servers: readonly ServerView[], o: SelectOptions, out: number[] = []): number[] {
  out.length = 0;
  const tier = activeTier(servers);
  if (tier === null) return out;
  let tierSize = 0;
  for (const s of servers) if (s.role === tier) tierSize++;
  // Walk the tier in config order starting at position nodeIndex mod tierSize.
  const start = o.nodeIndex % tierSize;
  for (let k = 0; k < tierSize && out.length < o.maxServersPerNode; k++) {
    const want = (start + k) % tierSize;
    let pos = 0;
    for (let i = 0; i < servers.length; i++) {
      const s = servers[i]!;
      if (s.role !== tier) continue;
      if (pos++ === want) {
        if (s.connected) out.push(i);
        break;
      }
    }
  }
  return out;
}

/**
 * The server to send the next request to, or -1 when every usable server is at its limit.
 * `exclude` holds servers already tried by this request (a retry goes elsewhere).
 */
export function selectServer(servers: readonly ServerView[], o: SelectOptions, now: number, exclude?: ReadonlySet<number>, scratch?: number[]): number {
  const usable = nodeServers(servers, o, scratch);
  let best = -1;
  let bestLoad = Infinity;
  for (const i of usable) {
    const s = servers[i]!;
    if (s.inFlight >= o.maxConnections || s.busyUntil > now) continue;
    if (exclude !== undefined && exclude.has(i)) continue;
    if (s.inFlight < bestLoad) {
      best = i;
      bestLoad = s.inFlight;
    }
  }
  return best;
}

/** Whether a request that already tried `exclude` could ever be served by another usable server now. */
export function hasAlternative(servers: readonly ServerView[], o: SelectOptions, exclude: ReadonlySet<number>): boolean {
  for (const i of nodeServers(servers, o)) if (!exclude.has(i)) return true;
  return false;
}
