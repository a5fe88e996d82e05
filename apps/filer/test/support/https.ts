// A real HTTPS fastify server for data-path and CLI tests: a self-signed certificate (selfsigned), the
// data-path extension on a static runtime, and an undici client that trusts that certificate.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { generate } from 'selfsigned';
import { Agent, request } from 'undici';
import { createStaticRuntime, type FilerExtension, type StaticRuntime, type StaticRuntimeOptions } from '../../src/index.js';

export const kEicar = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$' + 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

let certs: Promise<{ key: string; cert: string }> | undefined;
/** One self-signed certificate for 127.0.0.1 per test process (generating one takes a while). */
export function testCertificate(): Promise<{ key: string; cert: string }> {
  certs ??= generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keySize: 2048,
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  }).then((p) => ({ key: p.private, cert: p.cert }));
  return certs;
}

export interface TestServer {
  readonly url: string;
  readonly rt: StaticRuntime;
  readonly app: FastifyInstance;
  readonly dir: string;
  readonly cert: string;
  /** A request with the test certificate trusted; JSON bodies are parsed. */
  call(method: 'GET' | 'PUT' | 'POST' | 'DELETE', urlPath: string, body?: string | Buffer): Promise<{ status: number; json: any; text: string; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

/** Starts HTTPS on 127.0.0.1 (a free port) with the given extensions' routes on a fresh static runtime. */
export async function startTestServer(svms: StaticRuntimeOptions['svms'], extensions: readonly FilerExtension[]): Promise<TestServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'avscan-filer-http-'));
  const rt = await createStaticRuntime({ stateDir: dir, svms });
  const { key, cert } = await testCertificate();
  const app = Fastify({ https: { key, cert } });
  for (const ext of extensions) await ext.routes?.(app, rt);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const url = `https://127.0.0.1:${port}`;
  const dispatcher = new Agent({ connect: { ca: cert } });
  return {
    url, rt, app, dir, cert,
    async call(method, urlPath, body) {
      const res = await request(`${url}${urlPath}`, { method, dispatcher, ...(body !== undefined ? { body } : {}) });
      const text = await res.body.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.statusCode, json, text, headers: res.headers };
    },
    async close() {
      await app.close();
      await dispatcher.close();
      await rt.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
