// The CLI's data-path commands end to end: `avscan` (in process, and once as the real executable)
// against a real HTTPS fastify server carrying the data-path extension on a static runtime.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataPathExtension, kExitDenied, parseTarget, runCli } from '../../src/index.js';
import { kEicar, startTestServer, type TestServer } from '../support/https.js';

let srv: TestServer;
const local = mkdtempSync(path.join(os.tmpdir(), 'avscan-cli-'));

beforeAll(async () => {
  srv = await startTestServer([{ name: 'vs1', volumes: [{ name: 'vol1' }], scanner_pools: [{ name: 'p1', servers: ['builtin:'] }] }], [dataPathExtension()]);
});
afterAll(async () => {
  await srv?.close();
});

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string; bytes: Buffer }> {
  let out = '';
  let err = '';
  const chunks: Buffer[] = [];
  const code = await runCli(['--insecure', ...argv], {
    stdout: (s) => (out += s), stderr: (s) => (err += s), stdoutBytes: (b) => chunks.push(b),
    env: { AVSCAN_URL: srv.url, AVSCAN_USER: 'admin', AVSCAN_PASSWORD: 'secret' },
  });
  return { code, out, err, bytes: Buffer.concat(chunks) };
}

describe('avscan data-path commands', () => {
  it('writes a clean file (then closes it), opens it, lists and reads it', async () => {
    writeFileSync(path.join(local, 'report.txt'), 'numbers');
    const w = await cli('write', 'vs1/vol1/docs/report.txt', path.join(local, 'report.txt'));
    expect(w.code).toBe(0);
    expect(w.out).toContain('write \\vol1\\docs\\report.txt: 7 bytes (created)');
    expect(w.out).toContain('close \\vol1\\docs\\report.txt: ALLOWED — scan-queued');
    await srv.rt.engine('vs1').drain();
    const o = await cli('open', 'vs1/vol1/docs/report.txt');
    expect(o).toMatchObject({ code: 0 });
    expect(o.out).toMatch(/^open \\vol1\\docs\\report\.txt: ALLOWED — scan-current {2}decision \S+/);
    const ls = await cli('ls', 'vs1/vol1/docs');
    expect(ls.out).toContain('\\vol1\\docs — 1 entries');
    expect(ls.out).toMatch(/│ report\.txt +│ file +│ 7 +│/);
    const r = await cli('read', 'vs1/vol1/docs/report.txt');
    expect(r.bytes.toString()).toBe('numbers');
    await cli('read', 'vs1/vol1/docs/report.txt', '-o', path.join(local, 'copy.txt'));
    expect(readFileSync(path.join(local, 'copy.txt'), 'utf8')).toBe('numbers');
  });

  it('reports a deny with exit code 3, as text and as JSON', async () => {
    writeFileSync(path.join(srv.rt.volume('vs1', 'vol1')!.root, 'eicar.com'), kEicar);
    const o = await cli('open', 'vs1/vol1/eicar.com', '--mode', 'execute');
    expect(o.code).toBe(kExitDenied);
    expect(o.out).toContain('open vs1/vol1/eicar.com: DENIED — infected');
    await srv.rt.engine('vs1').drain();
    const j = await cli('--json', 'open', 'vs1/vol1/eicar.com');
    expect(j.code).toBe(kExitDenied);
    expect(JSON.parse(j.out)).toMatchObject({ error: { code: 'STATUS_ACCESS_DENIED', reason: 'quarantined', decision_id: expect.any(String) } });
    const r = await cli('read', 'vs1/vol1/eicar.com');
    expect(r.code).toBe(kExitDenied);
    expect(r.bytes.length).toBe(0);
  });

  it('renames, scans on request, closes and deletes', async () => {
    writeFileSync(path.join(srv.rt.volume('vs1', 'vol1')!.root, 'a.txt'), 'a');
    const mv = await cli('rename', 'vs1/vol1/a.txt', 'b.txt');
    expect(mv.out).toContain('rename \\vol1\\b.txt (from \\vol1\\a.txt): ALLOWED — clean');
    const sc = await cli('--json', 'scan', 'vs1/vol1/b.txt');
    expect(JSON.parse(sc.out)).toMatchObject({ result: 'clean', allow: true });
    expect((await cli('close', 'vs1/vol1/b.txt')).out).toContain('ALLOWED — not-triggered');
    expect((await cli('rm', 'vs1/vol1/b.txt')).out).toContain('delete \\vol1\\b.txt: done');
    const gone = await cli('open', 'vs1/vol1/b.txt');
    expect(gone.code).toBe(1);
    expect(gone.err).toContain('ERR_FILER_NOT_FOUND');
  });

  it('fails clearly: bad target, refused path, unreachable filer, certificate not trusted, usage', async () => {
    expect((await cli('open', 'vs1')).err).toContain('must be <svm>/<share>[/<path>]');
    expect((await cli('open', 'vs1/vol1/a%00b')).code).toBe(1);
    const untrusted = await runCli(['open', 'vs1/vol1/x'], { stdout: () => {}, stderr: () => {}, env: { AVSCAN_URL: srv.url } });
    expect(untrusted).toBe(1);
    let err = '';
    expect(await runCli(['--insecure', 'open', 'vs1/vol1/x'], { stdout: () => {}, stderr: (s) => (err += s), env: { AVSCAN_URL: 'https://127.0.0.1:1' } })).toBe(1);
    expect(err).toContain('cannot reach https://127.0.0.1:1');
    expect((await cli('open')).code).toBe(2);
    expect((await cli('open', 'vs1/vol1/x', '--mode', 'fly')).code).toBe(2);
  });

  it('parses targets with either separator and encodes each component', () => {
    expect(parseTarget('\\\\vs1\\vol1\\a b\\c#d.txt')).toEqual({ svm: 'vs1', share: 'vol1', path: 'a b/c#d.txt', url: '/data/vs1/vol1/a%20b/c%23d.txt' });
  });

  it('runs as the real executable (dist/cli/main.js)', async () => {
    writeFileSync(path.join(srv.rt.volume('vs1', 'vol1')!.root, 'exe.txt'), 'x');
    const main = new URL('../../dist/cli/main.js', import.meta.url).pathname;
    const { stdout } = await promisify(execFile)(process.execPath, [main, '-k', 'open', 'vs1/vol1/exe.txt'], { env: { ...process.env, AVSCAN_URL: srv.url } });
    expect(stdout).toContain('open \\vol1\\exe.txt: ALLOWED — clean');
  });
});
