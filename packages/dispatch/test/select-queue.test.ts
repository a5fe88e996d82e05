import { describe, expect, it } from 'vitest';
import { activeTier, nodeServers, PriorityQueue, selectServer, type ServerView } from '../src/internal.js';

const sv = (role: ServerView['role'], connected = true, inFlight = 0): ServerView => ({ role, connected, inFlight, busyUntil: 0 });
const o = { nodeIndex: 0, maxServersPerNode: 4, maxConnections: 20 };

describe('selection', () => {
  it('uses primaries; secondaries only while no primary is connected; idle never', () => {
    expect(activeTier([sv('primary'), sv('secondary')])).toBe('primary');
    expect(activeTier([sv('primary', false), sv('secondary')])).toBe('secondary');
    expect(activeTier([sv('primary', false), sv('idle')])).toBeNull();
    expect(selectServer([sv('primary', false), sv('secondary'), sv('idle')], o, 0)).toBe(1);
    expect(selectServer([sv('primary', true, 5), sv('secondary')], o, 0)).toBe(0);
    expect(selectServer([sv('idle')], o, 0)).toBe(-1);
  });

  it('respects max_connections_per_server and picks the least loaded', () => {
    expect(selectServer([sv('primary', true, 3), sv('primary', true, 1), sv('primary', true, 2)], o, 0)).toBe(1);
    expect(selectServer([sv('primary', true, 20), sv('primary', true, 20)], o, 0)).toBe(-1);
    expect(selectServer([sv('primary', true, 20), sv('primary', true, 19)], o, 0)).toBe(1);
    expect(selectServer([sv('primary'), sv('primary')], o, 0, new Set([0]))).toBe(1);
  });

  it('node n starts at server n and uses at most 4 servers', () => {
    const six = Array.from({ length: 6 }, () => sv('primary'));
    expect(nodeServers(six, o)).toEqual([0, 1, 2, 3]);
    expect(nodeServers(six, { ...o, nodeIndex: 4 })).toEqual([4, 5, 0, 1]);
    expect(nodeServers(six, { ...o, nodeIndex: 8 })).toEqual([2, 3, 4, 5]);
    // ties go to the node's first server
    expect(selectServer(six, { ...o, nodeIndex: 3 }, 0)).toBe(3);
    // a disconnected server in the window lets the next connected one in
    const gap = [sv('primary'), sv('primary', false), sv('primary'), sv('primary'), sv('primary'), sv('primary')];
    expect(nodeServers(gap, o)).toEqual([0, 2, 3, 4]);
    // secondaries are counted in their own tier
    expect(nodeServers([sv('primary', false), sv('secondary'), sv('secondary')], { ...o, nodeIndex: 1 })).toEqual([2, 1]);
  });

  it('skips a busy (EAGAIN) server until its time is up', () => {
    const s = [{ ...sv('primary'), busyUntil: 100 }, sv('primary', true, 5)];
    expect(selectServer(s, o, 50)).toBe(1);
    expect(selectServer(s, o, 150)).toBe(0);
  });
});

describe('priority queue', () => {
  type E = { queued: boolean; queueClass: number; arrival: number; id: string };
  const e = (id: string): E => ({ queued: false, queueClass: -1, arrival: 0, id });

  it('orders by class then FIFO, bounded, with O(1) removal', () => {
    const q = new PriorityQueue<E>(4);
    const items = [e('b1'), e('a1'), e('i1'), e('a2')];
    q.push(items[0]!, 'background');
    q.push(items[1]!, 'async');
    q.push(items[2]!, 'interactive');
    expect(q.push(items[3]!, 'async')).toBe(true);
    expect(q.full).toBe(true);
    expect(q.push(e('x'), 'interactive')).toBe(false);
    q.remove(items[1]!);
    expect(q.size).toBe(3);
    q.remove(items[1]!);
    expect(q.size).toBe(3);
    const out: string[] = [];
    for (let x = q.shift(); x; x = q.shift()) out.push(x.id);
    expect(out).toEqual(['i1', 'a2', 'b1']);
    expect(q.size).toBe(0);
  });

  it('puts retries back at the head of their class and survives compaction', () => {
    const q = new PriorityQueue<E>(10_000);
    for (let i = 0; i < 3000; i++) q.push(e(`n${i}`), 'async');
    for (let i = 0; i < 2500; i++) q.shift();
    const r = e('retry');
    q.pushFront(r, 'async');
    expect(q.shift()?.id).toBe('retry');
    expect(q.shift()?.id).toBe('n2500');
    expect(q.size).toBe(499);
  });

  it('raises an entry to a more urgent class in its arrival order there, leaving no live duplicate', () => {
    const q = new PriorityQueue<E>(100);
    const [i1, b1, b2, i2, b3] = [e('i1'), e('b1'), e('b2'), e('i2'), e('b3')];
    q.push(i1, 'interactive');
    q.push(b1, 'background');
    q.push(b2, 'background');
    q.push(i2, 'interactive');
    q.push(b3, 'background');
    q.raise(b2, 'interactive'); // arrived before i2: goes ahead of it, behind i1
    q.raise(b2, 'async'); // never lowered
    q.raise(i1, 'interactive'); // already there: no-op
    expect(q.size).toBe(5);
    const out: string[] = [];
    for (let x = q.shift(); x; x = q.shift()) out.push(x.id);
    expect(out).toEqual(['i1', 'b2', 'i2', 'b1', 'b3']);
    expect(q.size).toBe(0);
  });

  it('a raised entry removed later is gone from both classes', () => {
    const q = new PriorityQueue<E>(100);
    const [b1, b2] = [e('b1'), e('b2')];
    q.push(b1, 'background');
    q.push(b2, 'background');
    q.raise(b1, 'interactive');
    q.remove(b1);
    expect(q.size).toBe(1);
    expect(q.shift()?.id).toBe('b2');
    expect(q.shift()).toBeUndefined();
  });
});
