// Starts a private clamd for tests and benchmarks: a temp dir with a hand-written signature database
// (Debian ships none and clamd refuses an empty one: REAL-SCANNERS §1.2–1.3), a minimal clamd.conf on a
// unix socket and/or 127.0.0.1, `Foreground yes` so the spawned PID is clamd itself, and a bounded wait
// until zPING answers. Shared by bench/ and test/support (which re-exports it).
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { stopDaemon } from './daemon.js';

export const kClamdBinary = '/usr/sbin/clamd';

const hex = (s: string): string => Buffer.from(s, 'latin1').toString('hex');
export const kEicar = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
/** A plain marker any file can carry to be detected as `Test.Seed.Marker`. */
export const kMarker = 'TEST-SEED-MARKER-7f3a';
/** Both parts (any order) are detected as `Test.Seed.Logical`. */
export const kLogicalParts = ['SEED-PART-A', 'SEED-PART-B'] as const;

/** The hand-written signature files (names → content). */
export function signatureFiles(): Record<string, string> {
  return {
    'lab.ndb': `Eicar-Test-Signature:0:0:${hex(kEicar)}\nTest.Seed.Marker:0:*:${hex(kMarker)}\n`,
    'lab.hdb': 'aa15bcf478d165efd2065190eb473bcb:544:ClamAV-Test-File\n',
    'lab.ldb': `Test.Seed.Logical;Engine:51-255,Target:0;0&1;${hex(kLogicalParts[0])};${hex(kLogicalParts[1])}\n`,
  };
}

export interface ClamdOptions {
  /** Listen on a unix socket in the temp dir. @default true */
  readonly unix?: boolean;
  /** Also listen on 127.0.0.1 with a free port. @default false */
  readonly tcp?: boolean;
  /** clamd StreamMaxLength (e.g. `25M`, `1K`). @default '25M' */
  readonly streamMaxLength?: string;
  /** MaxFileSize / MaxScanSize. @default '25M' / '100M' */
  readonly maxFileSize?: string;
  readonly maxThreads?: number;
  /** listen() backlog of both sockets; tiny values make a stopped clamd refuse with EAGAIN. @default 200 */
  readonly maxConnectionQueueLength?: number;
  /** Log every scanned object, clean ones too (`LogClean`): tests count scanner requests in `log()`. @default false */
  readonly logClean?: boolean;
  /** For benchmarks that repeat payloads. @default false */
  readonly disableCache?: boolean;
  /**
   * Run clamd as this user (`User` in clamd.conf, needs root), e.g. `nobody`: clamd then cannot read
   * files the test makes unreadable, the real case behind scan-by-path fallbacks. The temp dir is made
   * world-readable and the socket lives in a `run/` directory owned by that user. @default clamd's own (root here)
   */
  readonly user?: { readonly name: string; readonly uid: number; readonly gid: number };
  /** More clamd.conf lines (e.g. `ExcludePath …`), appended last. @default [] */
  readonly extraConfig?: readonly string[];
  /** Bound on the wait for the first PONG. @default 15000 */
  readonly startTimeoutMs?: number;
}

export interface ClamdHandle {
  readonly dir: string;
  readonly socketPath: string | null;
  readonly tcp: { host: string; port: number } | null;
  readonly pid: number;
  readonly process: ChildProcess;
  /** Sends a signal to clamd (SIGSTOP/SIGCONT/SIGKILL/SIGTERM for fault tests). */
  signal(sig: NodeJS.Signals): void;
  /**
   * SIGSTOP, resolved once every clamd thread is stopped. kill() returns before that: clamd accepts on
   * a thread of its own, which can go on accepting connections for milliseconds on a loaded machine
   * until the group stop reaches it, so a test that counts what lands in the listen backlog must wait.
   */
  freeze(): Promise<void>;
  /** Stops clamd (SIGCONT + SIGTERM, then SIGKILL after 3 s) and removes the temp dir. */
  stop(): Promise<void>;
  log(): string;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Sends one z-command on a fresh connection and returns the reply (bounded by `timeoutMs`). */
export function clamdCommand(target: { path: string } | { host: string; port: number }, cmd: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = 'path' in target ? net.createConnection(target.path) : net.createConnection(target.port, target.host);
    let out = '';
    const t = setTimeout(() => { sock.destroy(); reject(new Error('clamd command timed out')); }, timeoutMs);
    sock.on('connect', () => sock.write(`z${cmd}\0`));
    sock.on('data', (d) => {
      out += d.toString();
      if (out.includes('\0')) { clearTimeout(t); sock.destroy(); resolve(out.replace(/\0.*$/s, '')); }
    });
    sock.on('error', (e) => { clearTimeout(t); reject(e); });
    sock.on('close', () => { clearTimeout(t); reject(new Error(`clamd closed: ${out}`)); });
  });
}

export async function startClamd(opts: ClamdOptions = {}): Promise<ClamdHandle> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'avscan-clamd-'));
  const db = path.join(dir, 'db');
  mkdirSync(db);
  for (const [name, content] of Object.entries(signatureFiles())) writeFileSync(path.join(db, name), content);
  const unix = opts.unix ?? true;
  // clamd drops to `User` before binding its socket and writing its pid: both go where that user may write.
  let runDir = dir;
  if (opts.user !== undefined) {
    chmodSync(dir, 0o755);
    runDir = path.join(dir, 'run');
    mkdirSync(runDir);
    chownSync(runDir, opts.user.uid, opts.user.gid);
  }
  const socketPath = unix ? path.join(runDir, 'clamd.sock') : null;
  const port = opts.tcp ? await freePort() : null;
  const lines = [
    `DatabaseDirectory ${db}`,
    ...(socketPath ? [`LocalSocket ${socketPath}`, 'LocalSocketMode 666', 'FixStaleSocket yes'] : []),
    ...(port !== null ? [`TCPSocket ${port}`, 'TCPAddr 127.0.0.1'] : []),
    'Foreground yes',
    `LogFile ${path.join(dir, 'clamd.log')}`,
    `PidFile ${path.join(runDir, 'clamd.pid')}`,
    ...(opts.user !== undefined ? [`User ${opts.user.name}`] : []),
    `MaxThreads ${opts.maxThreads ?? 10}`,
    `MaxConnectionQueueLength ${opts.maxConnectionQueueLength ?? 200}`,
    'MaxQueue 200',
    `StreamMaxLength ${opts.streamMaxLength ?? '25M'}`,
    `MaxFileSize ${opts.maxFileSize ?? '25M'}`,
    'MaxScanSize 100M',
    'AlertExceedsMax yes',
    'ReadTimeout 30',
    'CommandReadTimeout 30',
    'IdleTimeout 30',
    'SelfCheck 0',
    'Bytecode no',
    ...(opts.disableCache ? ['DisableCache yes'] : []),
    ...(opts.logClean ? ['LogClean yes'] : []),
    ...(opts.extraConfig ?? []),
  ];
  const conf = path.join(dir, 'clamd.conf');
  writeFileSync(conf, lines.join('\n') + '\n');
  const child = spawn(kClamdBinary, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => { stderr += d.toString(); });
  const target = socketPath ? { path: socketPath } : { host: '127.0.0.1', port: port! };
  const deadline = Date.now() + (opts.startTimeoutMs ?? 15_000);
  const log = (): string => { try { return readFileSync(path.join(dir, 'clamd.log'), 'utf8'); } catch { return ''; } };
  let exited = false;
  child.once('exit', () => { exited = true; });
  for (;;) {
    if (exited) throw new Error(`clamd exited during startup: ${stderr.trim()} ${log().slice(-500)}`);
    try {
      if (await clamdCommand(target, 'PING', 500) === 'PONG') break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`clamd did not answer PING within ${opts.startTimeoutMs ?? 15_000} ms: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const handle: ClamdHandle = {
    dir,
    socketPath,
    tcp: port !== null ? { host: '127.0.0.1', port } : null,
    pid: child.pid!,
    process: child,
    log,
    signal(sig) {
      if (!exited) child.kill(sig);
    },
    async freeze() {
      if (exited) throw new Error(`clamd ${child.pid} has exited: nothing to freeze`);
      child.kill('SIGSTOP');
      const deadline = Date.now() + 5000;
      while (!allThreadsStopped(child.pid!)) {
        if (Date.now() > deadline) throw new Error(`clamd ${child.pid} did not stop within 5 s of SIGSTOP`);
        await new Promise((r) => setTimeout(r, 2));
      }
    },
    stop: () => stopDaemon(child, dir, 3000),
  };
  return handle;
}

/** Every thread of `pid` in state T (stopped), read from /proc/<pid>/task/<tid>/stat. */
function allThreadsStopped(pid: number): boolean {
  const tasks = readdirSync(`/proc/${pid}/task`);
  // The state is the field right after the parenthesised command name, which may itself hold spaces.
  return tasks.every((tid) => {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      return true; // the thread exited since readdir: it accepts nothing either
    }
    const end = stat.lastIndexOf(')');
    return stat.slice(end + 2, end + 3) === 'T';
  });
}

export function clamdAvailable(): boolean {
  return existsSync(kClamdBinary);
}

const kInstreamEnd = Buffer.alloc(4);

/**
 * The raw baseline client: one new connection, `zINSTREAM` with the whole payload in one chunk, the
 * NUL-terminated reply. What a minimal hand-written clamd client does; benchmarks compare against it.
 */
export function rawInstream(socketPath: string, data: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32BE(data.length, 0);
    const sock = net.createConnection(socketPath);
    let out = '';
    sock.on('connect', () => sock.write(Buffer.concat([Buffer.from('zINSTREAM\0'), len, data, kInstreamEnd])));
    sock.on('data', (d) => {
      out += d.toString();
      if (out.includes('\0')) {
        sock.destroy();
        resolve(out);
      }
    });
    sock.on('error', reject);
    sock.on('close', () => reject(new Error('clamd closed without reply')));
  });
}

/**
 * The best raw client (BENCH.md's baseline for engine-clamd): one kept `zIDSESSION` connection,
 * `zINSTREAM` requests one at a time on it (the whole payload in one chunk), replies `<id>: …\0`.
 * Benchmarks open one per concurrency lane, as a hand-tuned client would.
 */
export class RawIdSession {
  readonly #sock: net.Socket;
  #out = '';
  #waiting: { resolve: (s: string) => void; reject: (e: Error) => void } | null = null;

  private constructor(sock: net.Socket) {
    this.#sock = sock;
    sock.on('data', (d: Buffer) => {
      this.#out += d.toString();
      const end = this.#out.indexOf('\0');
      if (end === -1 || this.#waiting === null) return;
      const reply = this.#out.slice(0, end);
      this.#out = this.#out.slice(end + 1);
      const w = this.#waiting;
      this.#waiting = null;
      w.resolve(reply.replace(/^\d+: /, ''));
    });
    sock.on('close', () => this.#waiting?.reject(new Error('clamd closed the session')));
    sock.on('error', () => {});
  }

  static open(socketPath: string): Promise<RawIdSession> {
    return new Promise((resolve, reject) => {
      const sock = net.createConnection(socketPath);
      sock.once('error', reject);
      sock.once('connect', () => {
        sock.off('error', reject);
        sock.write('zIDSESSION\0');
        resolve(new RawIdSession(sock));
      });
    });
  }

  scan(data: Buffer): Promise<string> {
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      const len = Buffer.allocUnsafe(4);
      len.writeUInt32BE(data.length, 0);
      this.#sock.write(Buffer.concat([Buffer.from('zINSTREAM\0'), len, data, kInstreamEnd]));
    });
  }

  /** `zSCAN <path>` on the session: clamd reads the file itself (the path-mode baseline). */
  scanPath(file: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.#sock.write(`zSCAN ${file}\0`);
    });
  }

  close(): void {
    this.#sock.end('zEND\0');
  }
}
