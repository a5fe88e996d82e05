/** A verdict as plain data: it crosses worker threads and sockets unchanged. */
export type ScanResult =
  | { status: 'clean' }
  | { status: 'infected'; threats: string[] }
  | { status: 'error'; code: string; message: string };

/** What the main thread sends a worker (plain data, structured-cloned). */
export type ScanTask = { kind: 'buffer'; data: Uint8Array } | { kind: 'file'; path: string };
