import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DispatchErrorCodes, kDefaults, parseAddress } from '../src/index.js';
import { resolveConfig } from '../src/internal.js';

const pools = [{ name: 'p1', servers: ['clamd://127.0.0.1:3310'] }];

describe('config', () => {
  it('fills ONTAP defaults (seconds → ms) and freezes', () => {
    const c = resolveConfig({ scanner_pools: pools });
    expect(c).toMatchObject({
      requestTimeoutMs: 30_000, scanQueueTimeoutMs: 20_000, sessionSetupTimeoutMs: 10_000, sessionTeardownTimeoutMs: 10_000,
      maxSessionSetupRetries: 5, maxConnectionsPerServer: 20, nodeIndex: 0, maxServersPerNode: 4, maxQueue: 6400,
    });
    expect(c.pools[0]).toMatchObject({ name: 'p1', role: 'primary', privileged_users: [] });
    expect(Object.isFrozen(c) && Object.isFrozen(c.pools[0])).toBe(true);
    expect(kDefaults.request_timeout).toBe(30);
  });

  it.each([
    [{ scanner_pools: pools, request_timout: 3 }, 'request_timout'],
    [{ scanner_pools: [] }, 'scanner_pools'],
    [{ scanner_pools: pools, request_timeout: -1 }, 'request_timeout'],
    [{ scanner_pools: pools, request_timeout: '30' }, 'request_timeout'],
    [{ scanner_pools: pools, max_connections_per_server: 1.5 }, 'max_connections_per_server'],
    [{ scanner_pools: pools, max_session_setup_retries: 0 }, 'max_session_setup_retries'],
    [{ scanner_pools: [{ name: 'bad name', servers: ['builtin:'] }] }, 'scanner_pools[0].name'],
    [{ scanner_pools: [{ name: 'p', servers: [] }] }, 'scanner_pools[0].servers'],
    [{ scanner_pools: [{ name: 'p', servers: ['builtin:'], role: 'backup' }] }, 'scanner_pools[0].role'],
    [{ scanner_pools: [{ name: 'p', servers: ['builtin:'], extra: 1 }] }, 'scanner_pools[0].extra'],
    [{ scanner_pools: [{ name: 'p', servers: ['builtin:'] }, { name: 'p', servers: ['clamd://h'] }] }, 'scanner_pools[1].name'],
    [{ scanner_pools: [{ name: 'p', servers: ['builtin:'] }, { name: 'q', servers: ['builtin:'] }] }, 'scanner_pools'],
    [{ scanner_pools: [{ name: 'p', servers: ['builtin:'], privileged_users: [''] }] }, 'scanner_pools[0].privileged_users'],
    [JSON.parse('{"scanner_pools":[{"name":"p","servers":["builtin:"]}],"__proto__":{"x":1}}'), '__proto__'],
  ])('refuses %j (target %s)', (opts, target) => {
    expect(() => resolveConfig(opts)).toThrow(expect.objectContaining({ code: DispatchErrorCodes.INVALID_CONFIG, target }));
  });

  it('refuses a non-object', () => {
    expect(() => resolveConfig(null)).toThrow(expect.objectContaining({ code: 'ERR_DISPATCH_INVALID_CONFIG' }));
  });

  it('parses every address form', () => {
    expect(parseAddress('clamd://127.0.0.1:3310')).toMatchObject({ type: 'clamd', endpoint: { host: '127.0.0.1', port: 3310 }, ip: '127.0.0.1' });
    expect(parseAddress('clamd://scanner.lab')).toMatchObject({ endpoint: { host: 'scanner.lab', port: 3310 } });
    expect(parseAddress('clamd+unix:///run/c.sock')).toMatchObject({ type: 'clamd', endpoint: { path: '/run/c.sock' }, ip: '/run/c.sock' });
    expect(parseAddress('icap://127.0.0.1:1344/avscan')).toMatchObject({ type: 'icap', service: 'avscan', endpoint: { port: 1344 } });
    expect(parseAddress('icap://[::1]/srv_clamav')).toMatchObject({ endpoint: { host: '::1', port: 1344 } });
    expect(parseAddress('builtin:')).toMatchObject({ type: 'builtin', endpoint: null });
  });

  it('clamd addresses use kept sessions unless `?session=0`', () => {
    expect(parseAddress('clamd+unix:///run/c.sock')).toMatchObject({ session: true });
    expect(parseAddress('clamd+unix:///run/c.sock?session=0')).toMatchObject({ session: false, endpoint: { path: '/run/c.sock' }, ip: '/run/c.sock', raw: 'clamd+unix:///run/c.sock?session=0' });
    expect(parseAddress('clamd://127.0.0.1:3310?session=0')).toMatchObject({ session: false, endpoint: { host: '127.0.0.1', port: 3310 } });
    expect(parseAddress('clamd://127.0.0.1?session=1')).toMatchObject({ session: true, endpoint: { port: 3310 } });
    expect(parseAddress('icap://127.0.0.1/avscan')).toMatchObject({ session: false });
    expect(() => parseAddress('clamd://127.0.0.1:3310?session=yes')).toThrow(expect.objectContaining({ code: 'ERR_DISPATCH_INVALID_ADDRESS' }));
  });

  it('clamd `?scan=path` sends paths to clamd; query keys in any order, each once, known keys and values only', () => {
    expect(parseAddress('clamd+unix:///run/c.sock')).toMatchObject({ scanByPath: false, session: true });
    expect(parseAddress('clamd+unix:///run/c.sock?scan=path')).toMatchObject({ scanByPath: true, session: true, endpoint: { path: '/run/c.sock' } });
    expect(parseAddress('clamd+unix:///run/c.sock?session=0&scan=path')).toMatchObject({ scanByPath: true, session: false, endpoint: { path: '/run/c.sock' } });
    expect(parseAddress('clamd+unix:///run/c.sock?scan=path&session=0')).toMatchObject({ scanByPath: true, session: false, ip: '/run/c.sock' });
    expect(parseAddress('clamd+unix:///run/c.sock?scan=instream&session=1')).toMatchObject({ scanByPath: false, session: true });
    expect(parseAddress('clamd://127.0.0.1:3310?scan=path&session=0')).toMatchObject({ scanByPath: true, session: false, endpoint: { host: '127.0.0.1', port: 3310 } });
    expect(parseAddress('clamd://[::1]?scan=path')).toMatchObject({ scanByPath: true, endpoint: { host: '::1', port: 3310 } });
    expect(parseAddress('icap://127.0.0.1/avscan?scan=path')).toMatchObject({ scanByPath: false, service: 'avscan?scan=path' });
    expect(parseAddress('builtin:')).toMatchObject({ scanByPath: false });
    // A `?` that does not start a `key=value` query stays part of a unix socket path.
    expect(parseAddress('clamd+unix:///run/odd?dir/c.sock')).toMatchObject({ endpoint: { path: '/run/odd?dir/c.sock' }, scanByPath: false });
    expect(parseAddress('clamd+unix:///run/odd?dir/c.sock?scan=path')).toMatchObject({ endpoint: { path: '/run/odd?dir/c.sock' }, scanByPath: true });
  });

  it.each([
    'clamd+unix:///run/c.sock?scan=paths', 'clamd+unix:///run/c.sock?scan=', 'clamd+unix:///run/c.sock?Scan=path',
    'clamd+unix:///run/c.sock?mode=path', 'clamd+unix:///run/c.sock?scan=path&scan=path', 'clamd+unix:///run/c.sock?session=0&session=1',
    'clamd+unix:///run/c.sock?scan=path&session=2', 'clamd+unix:///run/c.sock?scan=path&constructor=1', 'clamd+unix:///run/c.sock?__proto__=x',
    'clamd://127.0.0.1?scan=path&', 'clamd://127.0.0.1?scan', 'clamd://127.0.0.1?', 'clamd://127.0.0.1:3310?scan=path?session=0',
    'clamd://127.0.0.1?toString=1', 'clamd+unix://?scan=path', 'clamd+unix://rel.sock?scan=path',
  ])('refuses the clamd query in %j', (a) => {
    expect(() => parseAddress(a)).toThrow(expect.objectContaining({ code: DispatchErrorCodes.INVALID_ADDRESS, target: a }));
  });

  it.each(['', 'http://x', 'clamd://', 'clamd://h:0', 'clamd://h:99999', 'clamd://h:x', 'clamd://h/path', 'clamd+unix://rel.sock', 'icap://h:1344', 'icap://h/', 'builtin', 42])(
    'refuses address %j',
    (a) => {
      expect(() => parseAddress(a)).toThrow(expect.objectContaining({ code: DispatchErrorCodes.INVALID_ADDRESS }));
    },
  );
});

describe('errors catalog', () => {
  it('matches the README errors table', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Errors'));
    const documented = [...section.matchAll(/^\|\s*`(ERR_DISPATCH_[A-Z_]+)`/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(Object.values(DispatchErrorCodes).sort());
  });
});
