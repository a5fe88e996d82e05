// Scan by path (`?scan=path`) against a real clamd that runs as `nobody`: clamd reads readable files
// itself (zSCAN on the kept IDSESSION, or one connection per request with `session=0`), and files it
// cannot read (mode 000, or behind a 0700 directory) or will not scan (its ExcludePath) fall back once
// to INSTREAM, counted per server. A FIFO is an error, not a fallback, and leaves the server healthy.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher, type Dispatcher } from '@avscan/dispatch';
import { ClamdClient } from '@avscan/dispatch/internal';
import { kEicar, requireBinary, startClamd, type ClamdHandle } from '../support/index.js';

const available = requireBinary('clamd');
// `User nobody` needs root to switch to; CI runs as root (TOOLCHAIN.md).
const root = process.getuid?.() === 0;

describe.skipIf(!available || !root)('real clamd, scan by path', () => {
  let clamd: ClamdHandle;
  let dir: string;
  const file = (name: string, content: string | Buffer, mode = 0o644): string => {
    const p = path.join(dir, name);
    writeFileSync(p, content);
    chmodSync(p, mode);
    return p;
  };
  /** clamd writes its log line after the reply: wait for it (bounded). */
  const logged = async (text: string): Promise<string> => {
    for (let i = 0; i < 100 && !clamd.log().includes(text); i++) await new Promise((r) => setTimeout(r, 20));
    return clamd.log();
  };
  const clean = (): Buffer => Buffer.concat([Buffer.from('clean '), randomBytes(2048)]);

  beforeAll(async () => {
    clamd = await startClamd({ unix: true, logClean: true, user: { name: 'nobody', uid: 65534, gid: 65534 }, extraConfig: ['ExcludePath skipped-by-clamd'] });
    dir = mkdtempSync(path.join(os.tmpdir(), 'real-clamd-path-'));
    // mkdtemp makes the directory 0700: clamd (nobody) must be able to enter it.
    chmodSync(dir, 0o755);
  });
  afterAll(async () => {
    await clamd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe.each([
    ['kept IDSESSION', '?scan=path'],
    ['connection per request', '?session=0&scan=path'],
  ])('%s (%s)', (_label, query) => {
    let d: Dispatcher;
    let address: string;
    beforeAll(async () => {
      address = `clamd+unix://${clamd.socketPath}${query}`;
      d = createDispatcher({ scanner_pools: [{ name: 'lab', servers: [address] }], request_timeout: 10 });
      await d.ready();
    });
    afterAll(async () => { await d?.close(); });

    it('clamd reads the file itself: clean, and EICAR found with its name', async () => {
      const tag = query.length;
      const ok = file(`clean-${tag}.bin`, clean());
      const bad = file(`eicar-${tag}.com`, kEicar);
      expect(await d.scan({ file: ok })).toMatchObject({ result: 'clean', attempts: 1 });
      expect(await d.scan({ file: bad })).toMatchObject({ result: 'infected', threats: ['Eicar-Test-Signature'] });
      // clamd logs a path it scanned by name; a stream would be logged as `stream(...)`.
      expect(await logged(`${ok}: OK`)).toContain(`${ok}: OK`);
      expect(await logged(`${bad}: Eicar-Test-Signature.UNOFFICIAL FOUND`)).toContain(`${bad}: Eicar-Test-Signature.UNOFFICIAL FOUND`);
      expect(d.metrics().servers[0]).toMatchObject({ pathFallbacks: 0 });
    });

    it('falls back to INSTREAM once when clamd cannot read the file, and counts it', async () => {
      const tag = query.length;
      const locked = file(`locked-${tag}.bin`, clean(), 0o000);
      const hidden = path.join(dir, `private-${tag}`);
      mkdirSync(hidden, { mode: 0o700 });
      writeFileSync(path.join(hidden, 'eicar.com'), kEicar);
      expect(await d.scan({ file: locked })).toMatchObject({ result: 'clean', attempts: 1 });
      expect(await d.scan({ file: path.join(hidden, 'eicar.com') })).toMatchObject({ result: 'infected', threats: ['Eicar-Test-Signature'], attempts: 1 });
      expect(await logged(`File path check failure on: ${hidden}/eicar.com`)).toContain(`File path check failure on: ${hidden}/eicar.com`);
      expect(d.metrics().servers[0]).toMatchObject({ pathFallbacks: 2, failure: 0 });
      expect(d.serverStatus()[0]).toMatchObject({ state: 'connected', path_fallbacks: 2 });
      // The server stays usable by path afterwards.
      expect(await d.scan({ file: file(`after-${tag}.com`, kEicar) })).toMatchObject({ result: 'infected' });
      expect(d.metrics().servers[0]).toMatchObject({ pathFallbacks: 2 });
    });

    it('a path clamd excludes (ExcludePath) is streamed instead; a FIFO is a scanner error and the server stays healthy', async () => {
      const tag = query.length;
      const before = d.metrics().servers[0]!.pathFallbacks;
      expect(await d.scan({ file: file(`skipped-by-clamd-${tag}.com`, kEicar) })).toMatchObject({ result: 'infected', threats: ['Eicar-Test-Signature'] });
      expect(d.metrics().servers[0]!.pathFallbacks).toBe(before + 1);
      const fifo = path.join(dir, `fifo-${tag}`);
      execFileSync('mkfifo', [fifo]);
      // clamd answers `Not supported file type ERROR` and then `OK` under the same session id.
      expect(await d.scan({ file: fifo })).toMatchObject({ result: 'failure', code: 'ERR_DISPATCH_SCANNER_ERROR', attempts: 1 });
      expect(d.metrics().servers[0]!.pathFallbacks).toBe(before + 1);
      expect(d.serverStatus()[0]).toMatchObject({ state: 'connected' });
      expect(await d.scan({ file: file(`after-fifo-${tag}.bin`, clean()) })).toMatchObject({ result: 'clean', attempts: 1 });
      expect(d.serverStatus()[0]).toMatchObject({ state: 'connected' });
    });

    it('a missing file fails the same way as in INSTREAM mode (the node cannot read it either)', async () => {
      const missing = path.join(dir, 'no-such-file');
      const viaPath = await d.scan({ file: missing });
      const instream = createDispatcher({ scanner_pools: [{ name: 'lab', servers: [`clamd+unix://${clamd.socketPath}`] }], request_timeout: 10 });
      await instream.ready();
      const viaStream = await instream.scan({ file: missing });
      await instream.close();
      expect(viaPath).toMatchObject({ result: 'failure', code: 'ERR_DISPATCH_INVALID_REQUEST' });
      expect(viaStream).toMatchObject({ result: 'failure', code: (viaPath as { code: string }).code, kind: (viaPath as { kind: string }).kind });
    });

    it('objects in memory still go by INSTREAM', async () => {
      expect(await d.scan({ data: Buffer.from(kEicar) })).toMatchObject({ result: 'infected', threats: ['Eicar-Test-Signature'] });
      expect(await d.scan({ data: clean() })).toMatchObject({ result: 'clean' });
    });
  });

  it('keeps the IDSESSION across path refusals (clamd does not close it) and reuses it', async () => {
    const c = new ClamdClient({ path: clamd.socketPath! }, 'clamd', { scanByPath: true });
    const signal = new AbortController().signal;
    const locked = file('locked-session.bin', clean(), 0o000);
    for (let i = 0; i < 5; i++) {
      expect(await c.scan({ file: i % 2 === 0 ? locked : file(`ok-${i}.bin`, clean()) }, signal)).toEqual({ kind: 'clean' });
    }
    expect(c.pathFallbacks).toBe(3);
    expect(c.sessions).toEqual({ open: 1, idle: 1 });
    // A path with a newline cannot be sent to clamd: streamed instead, not counted as a fallback.
    expect(await c.scan({ file: file('new\nline.com', kEicar) }, signal)).toEqual({ kind: 'infected', threats: ['Eicar-Test-Signature'] });
    expect(c.pathFallbacks).toBe(3);
    await c.close();
  });
});
