// Piscina worker entry (loaded from dist/worker.js). Each pool generation is created with one compiled
// automaton in workerData (SharedArrayBuffers: shared, not copied), so a task always runs against the
// database its pool was created for, and a reload never mixes two databases inside one scan.
// Everything returned is plain data: errors do not survive the thread boundary with their class or code.
import { closeSync, openSync, readSync } from 'node:fs';
import { workerData } from 'piscina';
import { createCursor, feed, threatNames, type CompiledAutomaton } from './automaton.js';
import { ScannerErrorCodes } from './errors.js';
import type { ScanResult, ScanTask } from './types.js';

interface WorkerData {
  readonly automaton: CompiledAutomaton;
  readonly chunkSize: number;
}

const data = workerData as WorkerData;
const automaton = data.automaton;
// Reused read buffer: one scan at a time per thread, so one buffer suffices.
const readBuffer = Buffer.allocUnsafe(data.chunkSize);

function verdict(cursor: ReturnType<typeof createCursor>): ScanResult {
  return cursor.found.length === 0 ? { status: 'clean' } : { status: 'infected', threats: threatNames(automaton, cursor) };
}

function scanFile(path: string): ScanResult {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    return { status: 'error', code: ScannerErrorCodes.ERR_SCANNER_FILE_READ, message: describe(path, err) };
  }
  try {
    const cursor = createCursor(automaton);
    for (;;) {
      const n = readSync(fd, readBuffer, 0, readBuffer.length, null);
      if (n === 0) break;
      feed(automaton, cursor, readBuffer.subarray(0, n));
    }
    return verdict(cursor);
  } catch (err) {
    return { status: 'error', code: ScannerErrorCodes.ERR_SCANNER_FILE_READ, message: describe(path, err) };
  } finally {
    closeSync(fd);
  }
}

function describe(path: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
  return `cannot read \`${path}\`: ${code}`;
}

function scanBuffers(parts: readonly Uint8Array[]): ScanResult[] {
  const results = new Array<ScanResult>(parts.length);
  for (let i = 0; i < parts.length; i++) {
    const cursor = createCursor(automaton);
    feed(automaton, cursor, parts[i]!);
    results[i] = verdict(cursor);
  }
  return results;
}

export default function scan(task: ScanTask): ScanResult | ScanResult[] {
  return task.kind === 'file' ? scanFile(task.path) : scanBuffers(task.parts);
}
