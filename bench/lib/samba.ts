// Starts a private smbd for tests and benchmarks (REAL-SCANNERS §3.2): its own config and state dirs
// in a temp folder, 127.0.0.1 on a free port, an SMB password for root in a private tdbsam, and
// smbclient to drive it. smbd runs in the foreground as its own process group leader — never with
// `--no-process-group` (killing it would take the caller's group along, §3.3 #2) — and is stopped by PID.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './clamd.js';
import { stopDaemon } from './daemon.js';

export const kSmbd = '/usr/sbin/smbd';
export const kSmbclient = '/usr/bin/smbclient';
const kPassword = 'avscan-pw';

export interface VirusfilterShare {
  /** The scanner's clamd socket (the avscan front door, or clamd itself). */
  readonly socket: string;
  /** @default true: a scanner ERROR denies (Samba's own default is fail-open) */
  readonly blockAccessOnError?: boolean;
  /** Seconds Samba caches a verdict per smbd process; 0 breaks the share (§3.3 #1). @default 1 */
  readonly cacheTimeLimit?: number;
  /** @default true */
  readonly scanOnClose?: boolean;
  /** @default 'nothing' */
  readonly infectedFileAction?: 'nothing' | 'quarantine' | 'rename' | 'delete';
  /**
   * Size bounds outside which Samba skips the scanner and serves the file unscanned. Samba's own
   * defaults are 10 B and 100 MB; here 0 and 1 TiB, so the scanner (avscan's policy) judges every file.
   */
  readonly minFileSize?: number;
  readonly maxFileSize?: number;
  /** Samba's wait for a reply, ms. @default 20000 */
  readonly ioTimeoutMs?: number;
}

export interface SmbShare {
  readonly name: string;
  readonly path: string;
  /** Absent: a plain share without vfs_virusfilter. */
  readonly virusfilter?: VirusfilterShare;
}

export interface SmbclientResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface SmbdHandle {
  readonly dir: string;
  readonly port: number;
  readonly pid: number;
  readonly conf: string;
  /** Runs `smbclient //127.0.0.1/<share> -c <commands>` as root; `cwd` is where get/put find local files. */
  smbclient(share: string, commands: string, cwd?: string): Promise<SmbclientResult>;
  /** smbd's log so far (it logs to stdout with --debug-stdout). */
  log(): string;
  stop(): Promise<void>;
}

export function sambaAvailable(): boolean {
  return existsSync(kSmbd) && existsSync(kSmbclient) && existsSync('/usr/lib/x86_64-linux-gnu/samba/vfs/virusfilter.so');
}

function shareSection(s: SmbShare): string {
  const lines = [`[${s.name}]`, `  path = ${s.path}`, '  read only = no', '  valid users = root'];
  const v = s.virusfilter;
  if (v !== undefined) {
    lines.push(
      '  vfs objects = virusfilter',
      '  virusfilter:scanner = clamav',
      `  virusfilter:socket path = ${v.socket}`,
      '  virusfilter:scan on open = yes',
      `  virusfilter:scan on close = ${v.scanOnClose ?? true ? 'yes' : 'no'}`,
      `  virusfilter:infected file action = ${v.infectedFileAction ?? 'nothing'}`,
      `  virusfilter:block access on error = ${v.blockAccessOnError ?? true ? 'yes' : 'no'}`,
      `  virusfilter:cache time limit = ${v.cacheTimeLimit ?? 1}`,
      `  virusfilter:min file size = ${v.minFileSize ?? 0}`,
      `  virusfilter:max file size = ${v.maxFileSize ?? 1099511627776}`,
      `  virusfilter:io timeout = ${v.ioTimeoutMs ?? 20_000}`,
    );
  }
  return lines.join('\n');
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startSmbd(shares: readonly SmbShare[], opts: { startTimeoutMs?: number } = {}): Promise<SmbdHandle> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'avscan-smbd-'));
  const smb = path.join(dir, 'smb');
  for (const d of ['lock', 'state', 'cache', 'private', 'pid', 'ncalrpc']) mkdirSync(path.join(smb, d), { recursive: true });
  const port = await freePort();
  const conf = path.join(dir, 'smb.conf');
  writeFileSync(conf, [
    '[global]',
    '  server role = standalone server',
    '  workgroup = LAB',
    '  netbios name = AVSCANLAB',
    `  smb ports = ${port}`,
    '  interfaces = 127.0.0.1',
    '  bind interfaces only = yes',
    '  disable netbios = yes',
    '  load printers = no',
    '  printcap name = /dev/null',
    '  disable spoolss = yes',
    ...['lock', 'state', 'cache', 'pid', 'ncalrpc'].map((d) => `  ${d === 'ncalrpc' ? 'ncalrpc dir' : `${d} directory`} = ${path.join(smb, d)}`),
    `  private dir = ${path.join(smb, 'private')}`,
    `  passdb backend = tdbsam:${path.join(smb, 'private', 'passdb.tdb')}`,
    '  log level = 1 vfs:2',
    ...shares.map(shareSection),
    '',
  ].join('\n'));
  const pw = spawnSync('/usr/bin/smbpasswd', ['-c', conf, '-s', '-a', 'root'], { input: `${kPassword}\n${kPassword}\n`, encoding: 'utf8' });
  if (pw.status !== 0) throw new Error(`smbpasswd failed: ${pw.stderr}`);

  let out = '';
  const child: ChildProcess = spawn(kSmbd, ['--foreground', '--debug-stdout', '-s', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d) => (out += d.toString()));
  child.stderr?.on('data', (d) => (out += d.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  const deadline = Date.now() + (opts.startTimeoutMs ?? 15_000);
  while (!(await portOpen(port))) {
    if (exited) throw new Error(`smbd exited during startup: ${out.slice(-1000)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`smbd did not open port ${port}: ${out.slice(-1000)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }

  return {
    dir,
    port,
    pid: child.pid!,
    conf,
    log: () => out,
    smbclient(share, commands, cwd) {
      return new Promise((resolve, reject) => {
        const c = spawn(kSmbclient, [`//127.0.0.1/${share}`, '-p', String(port), '-s', conf, '-U', `root%${kPassword}`, '-c', commands], {
          cwd: cwd ?? dir,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        c.stdout.on('data', (d) => (stdout += d.toString()));
        c.stderr.on('data', (d) => (stderr += d.toString()));
        c.once('error', reject);
        c.once('close', (code) => resolve({ code, stdout, stderr }));
      });
    },
    stop: () => stopDaemon(child, dir, 5000),
  };
}
