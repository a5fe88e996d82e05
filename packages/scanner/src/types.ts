/** A verdict as plain data: it crosses worker threads and sockets unchanged. */
export type ScanResult =
  | { status: 'clean' }
  | { status: 'infected'; threats: string[] }
  | { status: 'error'; code: string; message: string };

/**
 * What the main thread sends a worker (plain data). `buffers` is a batch: scan i is the next `lengths[i]`
 * bytes of `data` (one moved ArrayBuffer), and the worker answers with one ScanResult per scan, in order.
 */
export type ScanTask = { kind: 'buffers'; data: Uint8Array; lengths: number[] } | { kind: 'file'; path: string };
