// avscan-scanner: runs the built-in scanner server until SIGTERM/SIGINT.
import { parseArgs } from 'node:util';
import { ScanEngine } from './engine.js';
import { ScannerError } from './errors.js';
import { isLoopbackHost, startScannerServer, type ScannerServerOptions } from './server.js';

const kUsage = `usage: avscan-scanner [options]

Serves the clamd protocol (PING, VERSION, INSTREAM, SCAN, IDSESSION/END, STATS) with the built-in
signature engine.

  --tcp HOST:PORT            listen on TCP (loopback only unless --listen-any); port 0 = any free port
  --unix PATH                listen on a unix socket
  --signatures FILE          signature database (default: the shipped test.sigs)
  --workers N                scanning worker threads (default: min(2, CPUs))
  --stream-max-length BYTES  largest INSTREAM accepted (default: 26214400)
  --max-connections N        connections served at once; later ones wait (default: 64)
  --listen-any               allow a non-loopback --tcp host
  --help                     show this help

With neither --tcp nor --unix it listens on 127.0.0.1:3310.`;

function fail(message: string): never {
  process.stderr.write(`avscan-scanner: ${message}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        tcp: { type: 'string' }, unix: { type: 'string' }, signatures: { type: 'string' }, workers: { type: 'string' },
        'stream-max-length': { type: 'string' }, 'max-connections': { type: 'string' }, 'listen-any': { type: 'boolean' }, help: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (err) {
    fail(`${(err as Error).message}\n${kUsage}`);
  }
  if (values.help) {
    process.stdout.write(`${kUsage}\n`);
    return;
  }
  const options: { -readonly [K in keyof ScannerServerOptions]: ScannerServerOptions[K] } = {};
  if (values.tcp === undefined && values.unix === undefined) options.tcp = { host: '127.0.0.1', port: 3310 };
  if (values.tcp !== undefined) {
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(values.tcp);
    if (!m) fail(`--tcp must be HOST:PORT, got \`${values.tcp}\``);
    const host = m[1]!.replace(/^\[|\]$/g, '');
    if (!isLoopbackHost(host) && !values['listen-any']) fail(`refusing to listen on non-loopback host \`${host}\` (pass --listen-any to allow)`);
    options.tcp = { host, port: Number(m[2]) };
  }
  if (values.unix !== undefined) options.unix = values.unix;
  if (values['stream-max-length'] !== undefined) options.streamMaxLength = Number(values['stream-max-length']);
  if (values['max-connections'] !== undefined) options.maxConnections = Number(values['max-connections']);
  if (values['listen-any']) options.listenAny = true;
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  const engine = await ScanEngine.create({
    ...(values.signatures !== undefined ? { signatures: values.signatures } : {}),
    ...(workers !== undefined ? { workers } : {}),
  });
  options.engine = engine;
  let server;
  try {
    server = await startScannerServer(options);
  } catch (err) {
    await engine.close();
    throw err;
  }
  const where = [server.tcp ? `tcp ${server.tcp.host}:${server.tcp.port}` : '', server.unixPath ? `unix ${server.unixPath}` : ''].filter(Boolean).join(', ');
  process.stdout.write(`avscan-scanner listening on ${where} (signatures ${engine.signatureVersion}, ${engine.workers} workers)\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`avscan-scanner: ${signal}, shutting down\n`);
    void server.close().then(() => engine.close()).then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  fail(err instanceof ScannerError ? `${err.code}: ${err.message}` : String(err));
});
