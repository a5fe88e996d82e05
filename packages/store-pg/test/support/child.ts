// A store-pg "node" in a real child process (test/fixtures/node-child.mjs), driven over stdio.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const kChild = path.join(import.meta.dirname, '..', 'fixtures', 'node-child.mjs');

export class NodeChild {
  readonly process: ChildProcess;
  readonly lines: string[] = [];
  /** Lines seen per first word (`ACK`, `ERR`, …), kept as they arrive: conditions stay O(1) under load. */
  readonly counts = new Map<string, number>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #stderr = '';
  #listeners = new Set<() => void>();

  constructor(role: string, connection: object, nodeId: string, args: readonly string[] = []) {
    this.process = spawn(process.execPath, [kChild, role, JSON.stringify(connection), nodeId, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let buf = '';
    this.process.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const parts = buf.split('\n');
      buf = parts.pop()!;
      for (const line of parts) {
        this.lines.push(line);
        const word = line.split(' ', 1)[0]!;
        this.counts.set(word, (this.counts.get(word) ?? 0) + 1);
      }
      for (const l of [...this.#listeners]) l();
    });
    this.process.stderr!.setEncoding('utf8').on('data', (d: string) => (this.#stderr += d));
    this.exited = new Promise((resolve) => this.process.on('close', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => {
      for (const l of [...this.#listeners]) l();
    });
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Resolves with the first line (from the start) matching `pred`; rejects after `timeoutMs` or on exit. */
  waitFor(pred: (line: string) => boolean, timeoutMs = 15_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = this.lines.find(pred);
        if (hit !== undefined) {
          done();
          resolve(hit);
          return true;
        }
        if (this.process.exitCode !== null || this.process.signalCode !== null) {
          done();
          reject(new Error(`child exited (${this.process.exitCode ?? this.process.signalCode}) before the line; stderr: ${this.#stderr.slice(0, 500)}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for a line; last lines: ${this.lines.slice(-5).join(' | ')}; stderr: ${this.#stderr.slice(0, 500)}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.#listeners.delete(listener);
      };
      const listener = (): void => void check();
      this.#listeners.add(listener);
      check();
    });
  }

  /** Resolves once `cond()` holds (checked on every output line); rejects after `timeoutMs` or on exit. */
  until(cond: () => boolean, timeoutMs = 15_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`timed out waiting for a condition; last lines: ${this.lines.slice(-5).join(' | ')}`)), timeoutMs);
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        this.#listeners.delete(listener);
        if (err === undefined) resolve();
        else reject(err);
      };
      const listener = (): void => {
        if (cond()) finish();
        else if (this.process.exitCode !== null || this.process.signalCode !== null) finish(new Error(`child exited; stderr: ${this.#stderr.slice(0, 500)}`));
      };
      this.#listeners.add(listener);
      listener();
    });
  }

  /** How many lines began with `word`. */
  count(word: string): number {
    return this.counts.get(word) ?? 0;
  }

  send(line: string): void {
    this.process.stdin!.write(`${line}\n`);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill(signal);
  }
}
