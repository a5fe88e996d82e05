import { describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import { freshStore, manualClock, tempDbFile } from './helpers.js';

const key = { volume: 'vol1', fileId: '99' };

describe('locks with leases', () => {
  it('first acquirer wins; a second owner sees the holder', () => {
    const clock = manualClock();
    const s = freshStore({ clock: clock.now });
    expect(s.acquireLock(key, 'w1', 'scan-1', 1000)).toEqual({ acquired: true });
    expect(s.acquireLock(key, 'w2', 'scan-2', 1000)).toEqual({
      acquired: false,
      holder: { node: 'node1', owner: 'w1', scanId: 'scan-1', acquiredAt: clock.now(), expiresAt: clock.now() + 1000 },
    });
    expect(s.lockHolder(key)!.owner).toBe('w1');
  });

  it('is re-entrant for the same owner on the same node', () => {
    const s = freshStore();
    expect(s.acquireLock(key, 'w1', 'scan-1', 1000).acquired).toBe(true);
    expect(s.acquireLock(key, 'w1', 'scan-1', 1000).acquired).toBe(true);
  });

  it('re-entry with another scan id hands the lock to the new scan: the old scan id can neither renew nor release it', () => {
    // The engine's case: a scan every waiter left is still winding down when a new access starts
    // the next scan of the same file under the same owner.
    const clock = manualClock();
    const s = freshStore({ clock: clock.now });
    expect(s.acquireLock(key, 'w1', 'scan-1', 1000).acquired).toBe(true);
    clock.advance(10);
    expect(s.acquireLock(key, 'w1', 'scan-2', 1000).acquired).toBe(true);
    expect(s.lockHolder(key)).toEqual({ node: 'node1', owner: 'w1', scanId: 'scan-2', acquiredAt: clock.now(), expiresAt: clock.now() + 1000 });
    expect(s.renewLock(key, 'w1', 'scan-1', 1000)).toBe(false);
    expect(s.releaseLock(key, 'w1', 'scan-1')).toBe(false);
    expect(s.lockHolder(key)?.scanId).toBe('scan-2');
    // Another owner still cannot take it while the new scan's lease is live.
    expect(s.acquireLock(key, 'w2', 'scan-3', 1000).acquired).toBe(false);
    expect(s.renewLock(key, 'w1', 'scan-2', 1000)).toBe(true);
    expect(s.releaseLock(key, 'w1', 'scan-2')).toBe(true);
    expect(s.lockHolder(key)).toBeUndefined();
  });

  it('another node takes over an expired lease, not a live one', () => {
    const clock = manualClock();
    const file = tempDbFile();
    const a = freshStore({ nodeId: 'a', clock: clock.now }, file);
    const b = freshStore({ nodeId: 'b', clock: clock.now }, file);
    expect(a.acquireLock(key, 'w', 's1', 1000).acquired).toBe(true);
    clock.advance(999);
    expect(b.acquireLock(key, 'w', 's2', 1000).acquired).toBe(false);
    clock.advance(1);
    expect(b.acquireLock(key, 'w', 's2', 1000).acquired).toBe(true);
    expect(b.lockHolder(key)).toMatchObject({ node: 'b', scanId: 's2' });
    // The old owner can neither renew nor release the lock it lost.
    expect(a.renewLock(key, 'w', 's1', 1000)).toBe(false);
    expect(a.releaseLock(key, 'w', 's1')).toBe(false);
    expect(b.lockHolder(key)!.node).toBe('b');
  });

  it('renew extends our lease; release frees the lock for others', () => {
    const clock = manualClock();
    const s = freshStore({ clock: clock.now });
    s.acquireLock(key, 'w1', 's1', 1000);
    clock.advance(900);
    expect(s.renewLock(key, 'w1', 's1', 1000)).toBe(true);
    expect(s.lockHolder(key)!.expiresAt).toBe(clock.now() + 1000);
    clock.advance(900);
    expect(s.acquireLock(key, 'w2', 's2', 1000).acquired).toBe(false);
    expect(s.renewLock(key, 'w2', 's2', 1000)).toBe(false);
    expect(s.releaseLock(key, 'w1', 's1')).toBe(true);
    expect(s.lockHolder(key)).toBeUndefined();
    expect(s.acquireLock(key, 'w2', 's2', 1000).acquired).toBe(true);
  });

  it('an expired lease cannot be renewed', () => {
    const clock = manualClock();
    const s = freshStore({ clock: clock.now });
    s.acquireLock(key, 'w1', 's1', 10);
    clock.advance(10);
    expect(s.renewLock(key, 'w1', 's1', 10)).toBe(false);
  });

  it('on open a store releases the stale locks of its own nodeId only', async () => {
    const file = tempDbFile();
    const a = openStore(file, { nodeId: 'a' });
    const b = freshStore({ nodeId: 'b' }, file);
    a.acquireLock(key, 'w', 's', 60_000);
    b.acquireLock({ volume: 'vol1', fileId: 'other' }, 'w', 's', 60_000);
    await a.close();
    const a2 = freshStore({ nodeId: 'a' }, file);
    expect(a2.lockHolder(key)).toBeUndefined();
    expect(a2.lockHolder({ volume: 'vol1', fileId: 'other' })!.node).toBe('b');
  });

  it('validates arguments', () => {
    const s = freshStore();
    expect(() => s.acquireLock({ volume: '', fileId: '1' }, 'w', 's', 1)).toThrow(expect.objectContaining({ code: 'ERR_STORE_INVALID_ARGUMENT' }));
    expect(() => s.acquireLock(key, 'w', 's', -1)).toThrow(expect.objectContaining({ target: 'leaseMs' }));
    expect(() => s.acquireLock(key, '', 's', 1)).toThrow(expect.objectContaining({ target: 'owner' }));
  });
});
