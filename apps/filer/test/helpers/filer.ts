// Starts a filer in-process on a temp state dir (port 0, fixed credentials) and talks to it over real
// HTTPS with undici (self-signed certificate accepted).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createServer } from 'node:net';
import { Agent, request } from 'undici';
import { loadConfig, startFiler, type FilerExtension, type RunningFiler } from '../../src/index.js';

export const kUser = 'admin';
export const kPassword = 'test-password';
export const kEicar = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$' + 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: any;
  readonly text: string;
}

export interface Client {
  get(p: string): Promise<Reply>;
  post(p: string, body?: unknown): Promise<Reply>;
  patch(p: string, body?: unknown): Promise<Reply>;
  del(p: string): Promise<Reply>;
  raw(method: string, p: string, opts?: { body?: string; headers?: Record<string, string>; auth?: string | null }): Promise<Reply>;
  close(): Promise<void>;
}

export function client(base: string, user = kUser, password = kPassword): Client {
  const agent = new Agent({ connect: { rejectUnauthorized: false }, keepAliveTimeout: 1000 });
  const auth = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const raw: Client['raw'] = async (method, p, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.auth !== null) headers['authorization'] = opts.auth ?? auth;
    const res = await request(`${base}${p}`, { method: method as 'GET', dispatcher: agent, headers, ...(opts.body === undefined ? {} : { body: opts.body }) });
    const text = await res.body.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: res.statusCode, headers: res.headers, body, text };
  };
  const json = (method: string) => (p: string, body?: unknown) =>
    raw(method, p, body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { get: json('GET'), post: json('POST'), patch: json('PATCH'), del: json('DELETE'), raw, close: () => agent.close() };
}

export interface TestFiler {
  readonly filer: RunningFiler;
  readonly api: Client;
  readonly dir: string;
  readonly uuid: string;
  restart(): Promise<TestFiler>;
  close(): Promise<void>;
}

/** A filer on the embedded default (or a config file) in a fresh temp dir. */
export async function startTestFiler(opts: { config?: string; dir?: string; extensions?: readonly FilerExtension[] } = {}): Promise<TestFiler> {
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'avscan-filer-e2e-'));
  const config = loadConfig({ stateDir: dir, port: 0, user: kUser, password: kPassword, ...(opts.config === undefined ? {} : { config: opts.config }) }, {});
  const filer = await startFiler(config, opts.extensions === undefined ? {} : { extensions: opts.extensions });
  const api = client(filer.url);
  const self: TestFiler = {
    filer, api, dir, uuid: filer.runtime.svms()[0]!.uuid,
    async restart() {
      await api.close();
      await filer.close();
      return startTestFiler({ ...opts, dir });
    },
    async close() {
      await api.close();
      await filer.close();
      if (opts.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
  return self;
}

/** The ONTAP error object, checked for shape. */
export function expectOntapError(r: Reply, status: number, code: string): void {
  if (r.status !== status || r.body?.error?.code !== code || typeof r.body.error.message !== 'string') {
    throw new Error(`expected ${status} with ONTAP error ${code}, got ${r.status} ${r.text.slice(0, 400)}`);
  }
}

/** OneFS PAPI's error body (`{"errors":[{code, message, field?}]}`), checked for shape. */
export function expectPapiError(r: Reply, status: number, code: string): void {
  const e = r.body?.errors;
  if (r.status !== status || !Array.isArray(e) || e.length !== 1 || e[0]?.code !== code || typeof e[0]?.message !== 'string' || r.body?.error !== undefined) {
    throw new Error(`expected ${status} with PAPI error ${code}, got ${r.status} ${r.text.slice(0, 400)}`);
  }
}

/** A TCP port free on loopback right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}
