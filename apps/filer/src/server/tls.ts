// The REST API's certificate: the configured one, or a self-signed one generated on first start and
// kept under `<state>/tls/` so clients that pinned it keep working after a restart.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generate } from 'selfsigned';

export interface TlsFiles {
  readonly key: string;
  readonly cert: string;
}

export async function loadOrCreateTls(stateDir: string, configured?: { readonly key: string; readonly cert: string }): Promise<TlsFiles> {
  if (configured !== undefined) return { key: readFileSync(configured.key, 'utf8'), cert: readFileSync(configured.cert, 'utf8') };
  const dir = path.join(stateDir, 'tls');
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  if (existsSync(keyFile) && existsSync(certFile)) return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
  const pems = await generate([{ name: 'commonName', value: 'avscan-filer' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 825 * 86_400_000),
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] }],
  });
  mkdirSync(dir, { recursive: true });
  writeFileSync(keyFile, pems.private, { mode: 0o600 });
  writeFileSync(certFile, pems.cert);
  return { key: pems.private, cert: pems.cert };
}
