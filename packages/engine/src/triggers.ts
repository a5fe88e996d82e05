// Which file operations trigger a scan, per profile (SPEC §5). Data, not code: the table below is the
// whole contract, and the engine only ever asks `triggerFor(profile, operation)`.

/** What the gateway saw happen to a file. `close` is split by whether the handle wrote. */
export type Operation = 'open' | 'read' | 'close-after-write' | 'close-no-write' | 'rename';

/** `sync`: the access waits for the verdict and can be denied. `async`: the operation completes and
 * the scan updates the attributes before the next access. `none`: no scan. */
export type Trigger = 'sync' | 'async' | 'none';

export const PROFILES = ['no-scan', 'standard', 'strict', 'writes-only', 'cava-standard', 'cava-strict'] as const;
export type Profile = (typeof PROFILES)[number];

type Row = Readonly<Record<Operation, Trigger>>;

const row = (open: Trigger, read: Trigger, closeWrite: Trigger, closeNoWrite: Trigger, rename: Trigger): Row =>
  Object.freeze({
    open,
    read,
    'close-after-write': closeWrite,
    'close-no-write': closeNoWrite,
    rename,
  });

// Columns: open, read, close after write, close without write, rename (the table of SPEC §5).
const TABLE: Readonly<Record<Profile, Row>> = Object.freeze({
  'no-scan': row('none', 'none', 'none', 'none', 'none'),
  standard: row('sync', 'none', 'async', 'none', 'sync'),
  strict: row('sync', 'sync', 'async', 'async', 'sync'),
  'writes-only': row('none', 'none', 'async', 'none', 'none'),
  'cava-standard': row('none', 'none', 'async', 'none', 'sync'),
  'cava-strict': row('none', 'sync', 'async', 'async', 'sync'),
});

export function triggerFor(profile: Profile, operation: Operation): Trigger {
  return TABLE[profile][operation];
}

export function isProfile(value: unknown): value is Profile {
  return typeof value === 'string' && (PROFILES as readonly string[]).includes(value);
}
