// Where and how the front door listens: socket path precedence, permissions, stale and live sockets,
// loopback TCP, option errors, and the extension seam the management server uses.
import { spawn } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinRuntimeFixture } from '../helpers/builtin-runtime.js';
import { FilerErrorCodes, frontdoorExtension, startFrontdoor } from '../../src/index.js';
import { exchange } from './wire.js';

const fixture = builtinRuntimeFixture('avscan-fdl-');
const tmp = fixture.tmp;

describe('clamd front door: listening', () => {
  it('AVSCAN_CLAMD_SOCKET overrides <state>/clamd.sock; the `socket` option overrides both', async () => {
    const viaEnv = path.join(tmp, 'env.sock');
    const a = await startFrontdoor(fixture.rt, { stateDir: tmp, env: { AVSCAN_CLAMD_SOCKET: viaEnv } });
    expect(a.socketPath).toBe(viaEnv);
    await a.close();
    expect(existsSync(viaEnv)).toBe(false);
    const explicit = path.join(tmp, 'opt.sock');
    const b = await startFrontdoor(fixture.rt, { stateDir: tmp, socket: explicit, env: { AVSCAN_CLAMD_SOCKET: viaEnv } });
    expect(b.socketPath).toBe(explicit);
    expect(await exchange(explicit, 'zPING\0')).toBe('PONG\0');
    await b.close();
  });

  it('socketGroup makes the socket 0660 owned by that group', async () => {
    const gid = 4242;
    const fd = await startFrontdoor(fixture.rt, { socket: path.join(tmp, 'grp.sock'), socketGroup: gid, env: {} });
    const st = statSync(fd.socketPath!);
    expect(st.mode & 0o777).toBe(0o660);
    expect(st.gid).toBe(gid);
    await fd.close();
    await expect(startFrontdoor(fixture.rt, { socket: path.join(tmp, 'g2.sock'), socketGroup: 'no-such-group-avscan', env: {} })).rejects.toMatchObject({
      code: FilerErrorCodes.INVALID_CONFIG,
      target: 'frontdoor.socketGroup',
    });
  });

  it('replaces a stale socket, refuses a live one and never removes a file that is not a socket', async () => {
    const p = path.join(tmp, 'stale.sock');
    // A listener in another process, SIGKILLed, leaves its socket file behind (no unlink on exit).
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(p)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    await expect(startFrontdoor(fixture.rt, { socket: p, env: {} })).rejects.toMatchObject({ code: FilerErrorCodes.SOCKET_IN_USE });
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    expect(statSync(p).isSocket()).toBe(true);
    const fd = await startFrontdoor(fixture.rt, { socket: p, env: {} });
    expect(await exchange(p, 'zPING\0')).toBe('PONG\0');
    await fd.close();
    const file = path.join(tmp, 'plain-file');
    writeFileSync(file, 'keep me');
    await expect(startFrontdoor(fixture.rt, { socket: file, env: {} })).rejects.toMatchObject({ code: FilerErrorCodes.SOCKET_IN_USE });
    expect(statSync(file).isFile()).toBe(true);
  });

  it('listens on loopback TCP when asked, and refuses bad options with coded errors', async () => {
    const fd = await startFrontdoor(fixture.rt, { socket: false, tcp: { port: 0 }, env: {} });
    expect(fd.socketPath).toBeNull();
    expect(fd.tcp?.host).toBe('127.0.0.1');
    expect(await exchange(fd.tcp!, 'zPING\0')).toBe('PONG\0');
    await fd.close();
    for (const bad of [{ socket: false as const, env: {} }, { env: {} }, { tcp: { port: 70000 }, stateDir: tmp, env: {} }, { socket: `/tmp/${'x'.repeat(120)}`, env: {} }]) {
      await expect(startFrontdoor(fixture.rt, bad)).rejects.toMatchObject({ code: FilerErrorCodes.INVALID_CONFIG });
    }
  });

  it('cuts a client that sends no complete command within readTimeoutMs', async () => {
    const fd = await startFrontdoor(fixture.rt, { socket: path.join(tmp, 'idle.sock'), readTimeoutMs: 100, env: {} });
    const t0 = Date.now();
    expect(await exchange(fd.socketPath!, 'zSCA')).toBe('');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    await fd.close();
  });

  it('starts and closes as a filer extension', async () => {
    const ext = frontdoorExtension({ socket: path.join(tmp, 'ext.sock'), env: {} });
    expect(ext.name).toBe('clamd-frontdoor');
    const handle = await ext.start!(fixture.rt);
    expect(await exchange(path.join(tmp, 'ext.sock'), 'zPING\0')).toBe('PONG\0');
    await handle.close();
    expect(existsSync(path.join(tmp, 'ext.sock'))).toBe(false);
  });
});
