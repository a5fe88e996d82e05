/** A verdict as plain data: it crosses worker threads and sockets unchanged. */
export type ScanResult =
  | { status: 'clean' }
  | { status: 'infected'; threats: string[] }
  | { status: 'error'; code: string; message: string };

/**
 * What the main thread sends a worker (plain data). `buffers` is a batch of views of SharedArrayBuffers
 * (shared, not copied); the worker answers with one ScanResult per part, in order.
 */
export type ScanTask = { kind: 'buffers'; parts: Uint8Array[] } | { kind: 'file'; path: string };
