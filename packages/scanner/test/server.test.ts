import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EICAR, ScanEngine, ScannerErrorCodes, startScannerServer, type ScannerError, type ScannerServer } from '../dist/index.js';
import { exchange, instream, randomBytes, tempDir, type Target } from './helpers.js';

const dir = tempDir();
const logs: string[] = [];
let engine: ScanEngine;
let server: ScannerServer;

beforeAll(async () => {
  engine = await ScanEngine.create({ workers: 2 });
  server = await startScannerServer({ engine, tcp: { host: '127.0.0.1', port: 0 }, unix: join(dir, 'scanner.sock'), streamMaxLength: 1000, log: (l) => logs.push(l) });
});
afterAll(async () => {
  await server.close();
  await engine.close();
});

const targets = (): Array<[string, Target]> => [
  ['tcp', { host: '127.0.0.1', port: server.tcp!.port }],
  ['unix', { path: server.unixPath! }],
];

describe.each(['tcp', 'unix'] as const)('clamd protocol over %s', (kind) => {
  const target = () => targets().find(([k]) => k === kind)![1];

  it('PING with z, n and bare framing gets PONG with the matching terminator, then the server closes', async () => {
    expect(await exchange(target(), 'zPING\0')).toEqual({ text: 'PONG\0', closed: true });
    expect(await exchange(target(), 'nPING\n')).toEqual({ text: 'PONG\n', closed: true });
    expect(await exchange(target(), 'PING\n')).toEqual({ text: 'PONG\n', closed: true });
  });

  it('VERSION carries the signature version and date', async () => {
    expect((await exchange(target(), 'zVERSION\0')).text).toBe('ClamAV 1.4.6/avscan-test-1/Sun Jun  1 00:00:00 2025\0');
  });

  it('INSTREAM reports EICAR and clean streams, in many small chunks too', async () => {
    expect((await exchange(target(), instream(EICAR))).text).toBe('stream: Eicar-Test-Signature FOUND\0');
    expect((await exchange(target(), instream(Buffer.concat([randomBytes(300), EICAR]), 13))).text).toBe('stream: Eicar-Test-Signature FOUND\0');
    expect((await exchange(target(), instream(randomBytes(900, 4)))).text).toBe('stream: OK\0');
    expect((await exchange(target(), instream(new Uint8Array(0), 1, 'n'))).text).toBe('stream: OK\n');
  });

  it('INSTREAM over StreamMaxLength gets the clamd size error and a close', async () => {
    expect(await exchange(target(), instream(randomBytes(1001)))).toMatchObject({ text: 'INSTREAM size limit exceeded. ERROR\0', closed: true });
    expect((await exchange(target(), instream(randomBytes(1000)))).text).toBe('stream: OK\0'); // exactly the limit is scanned
    const huge = Buffer.concat([Buffer.from('zINSTREAM\0'), Buffer.from([0x80, 0, 0, 0])]);
    expect((await exchange(target(), huge)).text).toBe('INSTREAM size limit exceeded. ERROR\0');
  });

  it('SCAN reports a path as OK, FOUND or a path check failure', async () => {
    const bad = join(dir, `eicar-${kind}.com`);
    const good = join(dir, `clean-${kind}.txt`);
    writeFileSync(bad, EICAR);
    writeFileSync(good, 'hello');
    expect((await exchange(target(), `zSCAN ${bad}\0`)).text).toBe(`${bad}: Eicar-Test-Signature FOUND\0`);
    expect((await exchange(target(), `nSCAN ${good}\n`)).text).toBe(`${good}: OK\n`);
    expect((await exchange(target(), `zSCAN ${dir}/missing\0`)).text).toBe(`${dir}/missing: File path check failure: No such file or directory. ERROR\0`);
  });

  it('STATS ends in END; unknown commands get UNKNOWN COMMAND', async () => {
    const stats = (await exchange(target(), 'zSTATS\0')).text;
    expect(stats).toMatch(/^POOLS: 1\n/);
    expect(stats).toMatch(/THREADS: live 2/);
    expect(stats.endsWith('END\0')).toBe(true);
    expect(await exchange(target(), 'zFROBNICATE\0')).toEqual({ text: 'UNKNOWN COMMAND\0', closed: true });
    expect((await exchange(target(), 'nPING extra\n')).text).toBe('UNKNOWN COMMAND\n');
  });

  it('IDSESSION numbers requests and returns replies as they complete', async () => {
    server.setFaults({ commandLatencyMs: { INSTREAM: 150, VERSION: 60 } });
    try {
      const req = Buffer.concat([Buffer.from('zIDSESSION\0'), instream(EICAR), Buffer.from('zVERSION\0zPING\0'), instream(randomBytes(50)), Buffer.from('zEND\0')]);
      const { text, closed } = await exchange(target(), req);
      expect(closed).toBe(true);
      const replies = text.split('\0').filter(Boolean);
      expect(replies).toHaveLength(4);
      expect(replies[0]).toBe('3: PONG'); // sent third, answered first
      expect(replies[1]).toBe('2: ClamAV 1.4.6/avscan-test-1/Sun Jun  1 00:00:00 2025');
      expect(replies.slice(2).sort()).toEqual(['1: stream: Eicar-Test-Signature FOUND', '4: stream: OK']);
    } finally {
      server.setFaults({});
    }
  });

  it('a session ended by EOF instead of END still gets every reply before the close', async () => {
    const sock = 'path' in target() ? net.connect((target() as { path: string }).path) : net.connect((target() as { port: number }).port, '127.0.0.1');
    const out: Buffer[] = [];
    sock.on('data', (d) => out.push(d));
    sock.end(Buffer.concat([Buffer.from('nIDSESSION\n'), instream(EICAR, 8192, 'n'), Buffer.from('nPING\n')]));
    await new Promise((r) => sock.on('close', r));
    expect(Buffer.concat(out).toString().split('\n').filter(Boolean).sort()).toEqual(['1: stream: Eicar-Test-Signature FOUND', '2: PONG']);
  });

  it('an over-long INSTREAM inside IDSESSION is answered under its own request id', async () => {
    const { text } = await exchange(target(), Buffer.concat([Buffer.from('zIDSESSION\0zPING\0'), instream(randomBytes(1001))]));
    expect(text).toContain('1: PONG\0');
    expect(text).toContain('2: INSTREAM size limit exceeded. ERROR\0');
  });

  it('nested IDSESSION is refused inside the session', async () => {
    const { text } = await exchange(target(), 'zIDSESSION\0zPING\0zIDSESSION\0zEND\0');
    expect(text).toBe('1: PONG\0' + '2: Command invalid inside IDSESSION. ERROR\0');
  });
});

describe('fault injection', () => {
  const tcp = (): Target => ({ host: '127.0.0.1', port: server.tcp!.port });

  it('latency delays the reply', async () => {
    server.setFaults({ latencyMs: 150 });
    try {
      const t0 = Date.now();
      expect((await exchange(tcp(), 'zPING\0')).text).toBe('PONG\0');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    } finally {
      server.setFaults({});
    }
  });

  it('hang accepts and reads but never replies', async () => {
    server.setFaults({ hang: true });
    try {
      expect(await exchange(tcp(), 'zPING\0', 300)).toEqual({ text: '', closed: false });
    } finally {
      server.setFaults({});
    }
  });

  it('dropMidReply writes part of the reply then drops the connection', async () => {
    server.setFaults({ dropMidReply: true });
    try {
      const r = await exchange(tcp(), instream(EICAR));
      expect(r.closed).toBe(true);
      expect(r.text.length).toBeGreaterThan(0);
      expect('stream: Eicar-Test-Signature FOUND\0'.startsWith(r.text)).toBe(true);
      expect(r.text.endsWith('\0')).toBe(false);
    } finally {
      server.setFaults({});
    }
  });

  it('refuse resets new connections on both sockets and counts them', async () => {
    const before = server.stats().refused;
    server.setFaults({ refuse: true });
    try {
      for (const [, t] of targets()) expect(await exchange(t, 'zPING\0')).toMatchObject({ text: '', closed: true });
    } finally {
      server.setFaults({});
    }
    expect(server.stats().refused).toBe(before + 2);
    expect((await exchange(tcp(), 'zPING\0')).text).toBe('PONG\0');
  });

  it('logs one line per connection error', async () => {
    const before = logs.length;
    const sock = net.connect(server.tcp!.port, '127.0.0.1');
    await new Promise((r) => sock.on('connect', r));
    sock.write('zINSTREAM\0');
    await new Promise((r) => setTimeout(r, 50));
    sock.resetAndDestroy();
    for (let i = 0; i < 50 && logs.length === before; i++) await new Promise((r) => setTimeout(r, 10));
    expect(logs.length).toBe(before + 1);
    expect(logs[before]).toMatch(/^scanner: connection error ECONNRESET$/);
  });

  it('a client that resets the connection cancels its queued scan (verdict dropped, queue slot freed)', async () => {
    // A FIN alone is a half-close (`nc -N` still expects its reply), so only a reset or a failed write
    // tells the server that the client is gone.
    const solo = await ScanEngine.create({ workers: 1 });
    const srv = await startScannerServer({ engine: solo, tcp: { host: '127.0.0.1', port: 0 }, log: () => {} });
    try {
      const busy = solo.scanBuffer(Buffer.alloc(48 << 20, 0x41)); // occupies the only worker
      const sock = net.connect(srv.tcp!.port, '127.0.0.1');
      await new Promise((r) => sock.on('connect', r));
      sock.write(instream(EICAR));
      for (let i = 0; i < 100 && solo.pending < 2; i++) await new Promise((r) => setTimeout(r, 2));
      expect(solo.pending).toBe(2); // the busy scan + the queued INSTREAM
      sock.resetAndDestroy();
      for (let i = 0; i < 100 && solo.pending > 1; i++) await new Promise((r) => setTimeout(r, 2));
      expect(solo.pending).toBe(1); // left the queue while the big scan still runs
      expect(srv.stats()).toMatchObject({ scans: 1, errors: 1, infected: 0 });
      expect(await busy).toEqual({ status: 'clean' });
    } finally {
      await srv.close();
      await solo.close();
    }
  });

  it('closes idle connections after readTimeoutMs with clamd\'s newline-terminated message', async () => {
    const quick = await startScannerServer({ engine, tcp: { host: '127.0.0.1', port: 0 }, readTimeoutMs: 100, log: () => {} });
    try {
      expect(await exchange({ host: '127.0.0.1', port: quick.tcp!.port }, 'zPIN', 2000)).toEqual({ text: 'COMMAND READ TIMED OUT\n', closed: true });
    } finally {
      await quick.close();
    }
  });

  it('validates faults and options with coded errors', async () => {
    expect(() => server.setFaults({ latencyMs: -1 })).toThrow(expect.objectContaining({ code: ScannerErrorCodes.ERR_SCANNER_INVALID_OPTION }));
    expect(() => server.setFaults(JSON.parse('{"hnag": true}'))).toThrow(expect.objectContaining({ code: ScannerErrorCodes.ERR_SCANNER_INVALID_OPTION }));
    const codeOf = async (p: Promise<unknown>) => p.then(() => 'resolved', (e: ScannerError) => e.code);
    expect(await codeOf(startScannerServer({ engine, tcp: { host: '0.0.0.0', port: 0 } }))).toBe(ScannerErrorCodes.ERR_SCANNER_NON_LOOPBACK);
    expect(await codeOf(startScannerServer({ engine }))).toBe(ScannerErrorCodes.ERR_SCANNER_INVALID_OPTION);
    expect(await codeOf(startScannerServer({ engine, tcp: { host: '127.0.0.1', port: server.tcp!.port } }))).toBe(ScannerErrorCodes.ERR_SCANNER_LISTEN);
    expect(await codeOf(startScannerServer(JSON.parse('{"tcp":{"host":"127.0.0.1","port":0},"strem":1}')))).toBe(ScannerErrorCodes.ERR_SCANNER_INVALID_OPTION);
  });

  it('close removes the unix socket; a stale socket file is replaced, a live one is not stolen', async () => {
    const path = join(dir, 'own.sock');
    const a = await startScannerServer({ engine, unix: path });
    expect(existsSync(path)).toBe(true);
    const stolen = await startScannerServer({ engine, unix: path }).then(() => 'started', (e: ScannerError) => e.code);
    expect(stolen).toBe(ScannerErrorCodes.ERR_SCANNER_LISTEN);
    expect((await exchange({ path }, 'zPING\0')).text).toBe('PONG\0');
    await a.close();
    expect(existsSync(path)).toBe(false);
    // A stale socket file: its server was SIGKILLed, so nobody unlinked it.
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise((r) => child.stdout.once('data', r));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(existsSync(path)).toBe(true);
    const b = await startScannerServer({ engine, unix: path });
    expect((await exchange({ path }, 'zPING\0')).text).toBe('PONG\0');
    await b.close();
  });
});

describe('CLI', () => {
  const bin = fileURLToPath(new URL('../bin/avscan-scanner.js', import.meta.url));

  function run(args: string[]) {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    return { child, exit, out: () => out, err: () => err };
  }

  it('starts, prints where it listens, answers PING and exits 0 on SIGTERM', async () => {
    const sock = join(dir, 'cli.sock');
    const p = run(['--tcp', '127.0.0.1:0', '--unix', sock, '--workers', '1']);
    for (let i = 0; i < 100 && !p.out().includes('listening'); i++) await new Promise((r) => setTimeout(r, 50));
    const m = /tcp 127\.0\.0\.1:(\d+), unix (\S+) /.exec(p.out());
    expect(m).not.toBeNull();
    expect((await exchange({ host: '127.0.0.1', port: Number(m![1]) }, 'zPING\0')).text).toBe('PONG\0');
    expect((await exchange({ path: sock }, 'zPING\0')).text).toBe('PONG\0');
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(0);
    expect(existsSync(sock)).toBe(false);
  });

  it('uses --signatures and --stream-max-length', async () => {
    const sigs = join(dir, 'cli.sigs');
    writeFileSync(sigs, `AVSCAN-SIGS/1 version=cli-7 timestamp=2025-05-05T00:00:00Z\nCli.Marker:${Buffer.from('CLI-MARKER').toString('hex')}\n`);
    const sock = join(dir, 'cli2.sock');
    const p = run(['--unix', sock, '--signatures', sigs, '--stream-max-length', '64', '--workers', '1']);
    for (let i = 0; i < 100 && !p.out().includes('listening'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(p.out()).toContain('signatures cli-7');
    expect((await exchange({ path: sock }, 'zVERSION\0')).text).toBe('ClamAV 1.4.6/cli-7/Mon May  5 00:00:00 2025\0');
    expect((await exchange({ path: sock }, instream(Buffer.from('..CLI-MARKER..')))).text).toBe('stream: Cli.Marker FOUND\0');
    expect((await exchange({ path: sock }, instream(Buffer.alloc(65)))).text).toBe('INSTREAM size limit exceeded. ERROR\0');
    p.child.kill('SIGINT');
    expect(await p.exit).toBe(0);
    const bad = run(['--unix', sock, '--signatures', join(dir, 'missing.sigs')]);
    expect(await bad.exit).toBe(2);
    expect(bad.err()).toContain('ERR_SCANNER_SIGNATURES_READ');
  });

  it('refuses 0.0.0.0 without --listen-any, and bad arguments, with exit code 2', async () => {
    const p = run(['--tcp', '0.0.0.0:0']);
    expect(await p.exit).toBe(2);
    expect(p.err()).toContain('non-loopback');
    const q = run(['--bogus']);
    expect(await q.exit).toBe(2);
    const h = run(['--help']);
    expect(await h.exit).toBe(0);
    expect(h.out()).toContain('--stream-max-length');
  });
});
