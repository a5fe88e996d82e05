import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommandParser, EICAR, ScanEngine, ScannerErrorCodes, startScannerServer, type ScannerErrorCode } from '../dist/index.js';
import { kMaxCommandLength } from '../dist/internal.js';
import { randomBytes, tempDir } from './helpers.js';

describe('error catalog', () => {
  it('lists exactly the codes of the README Errors table', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Errors'));
    const documented = [...section.matchAll(/^\| `(ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(Object.keys(ScannerErrorCodes).sort());
    for (const [k, v] of Object.entries(ScannerErrorCodes)) expect(v).toBe(k);
    expect(Object.isFrozen(ScannerErrorCodes)).toBe(true);
  });
});

const dir = tempDir();

/** The code a promise rejects with, or the code of the error result it resolves to. */
async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    const r = (await p) as { status?: string; code?: string };
    return r?.status === 'error' ? r.code : undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

async function withEngine<T>(options: Parameters<typeof ScanEngine.create>[0], f: (e: ScanEngine) => Promise<T>): Promise<T> {
  const engine = await ScanEngine.create(options);
  try {
    return await f(engine);
  } finally {
    await engine.close();
  }
}

/** The protocol error a parser reports for `bytes` followed by EOF. */
function parserCode(bytes: Uint8Array, streamMax = 1 << 20): string | undefined {
  const p = new CommandParser(streamMax);
  const events = [...p.push(bytes), ...p.end()];
  const err = events.find((e) => e.type === 'error');
  return err?.type === 'error' ? err.code : undefined;
}

// Each code, raised by the real API path that produces it.
const kRaisedBy: Record<Exclude<ScannerErrorCode, 'ERR_SCANNER_WORKER_FAILED'>, () => Promise<string | undefined>> = {
  ERR_SCANNER_INVALID_OPTION: () => codeOf(ScanEngine.create({ workers: 0 })),
  ERR_SCANNER_SIGNATURES_READ: () => codeOf(ScanEngine.create({ signatures: join(dir, 'absent.sigs') })),
  ERR_SCANNER_SIGNATURES_MALFORMED: async () => {
    const file = join(dir, 'bad.sigs');
    writeFileSync(file, 'AVSCAN-SIGS/1 version=x timestamp=2025-06-01T00:00:00Z\nname-without-pattern\n');
    return codeOf(ScanEngine.create({ signatures: file }));
  },
  ERR_SCANNER_SIGNATURES_TOO_LARGE: async () => {
    // 140 unrelated 1 KiB patterns need ~143k automaton states; the cap is 131,072.
    const lines = Array.from({ length: 140 }, (_, i) => `Big.${i}:${randomBytes(1024, i + 1).toString('hex')}`);
    const file = join(dir, 'huge.sigs');
    writeFileSync(file, `AVSCAN-SIGS/1 version=x timestamp=2025-06-01T00:00:00Z\n${lines.join('\n')}\n`);
    return codeOf(ScanEngine.create({ signatures: file }));
  },
  ERR_SCANNER_FILE_READ: () => withEngine({ workers: 1 }, (e) => codeOf(e.scanFile(join(dir, 'absent.bin')))),
  ERR_SCANNER_ABORTED: () => withEngine({ workers: 1 }, (e) => codeOf(e.scanBuffer(EICAR, AbortSignal.abort(new Error('gone'))))),
  ERR_SCANNER_CLOSED: async () => {
    const engine = await ScanEngine.create({ workers: 1 });
    await engine.close();
    return codeOf(engine.scanBuffer(EICAR));
  },
  ERR_SCANNER_QUEUE_FULL: () => withEngine({ workers: 1, maxQueue: 0 }, async (e) => {
    const [, second] = await Promise.all([e.scanBuffer(Buffer.alloc(1 << 20)), codeOf(e.scanBuffer(EICAR))]);
    return second;
  }),
  ERR_SCANNER_PROTOCOL_COMMAND_TOO_LONG: async () => parserCode(Buffer.from(`zSCAN /${'a'.repeat(kMaxCommandLength)}\0`)),
  ERR_SCANNER_PROTOCOL_UNKNOWN_COMMAND: async () => parserCode(Buffer.from('zCONTSCAN /tmp\0')),
  ERR_SCANNER_PROTOCOL_TRUNCATED: async () => parserCode(Buffer.from('zINSTREAM\0\0\0\0\x10abc')),
  ERR_SCANNER_STREAM_TOO_LONG: async () => parserCode(Buffer.from('zINSTREAM\0\0\0\x01\0'), 255),
  ERR_SCANNER_SPOOL: async () => {
    // Through the server: a spooled INSTREAM whose spool directory is gone is answered with this error.
    const spool = tempDir();
    const server = await startScannerServer({ unix: join(dir, 'spool.sock'), streamSpoolThreshold: 0, spoolDirectory: spool, log: () => {} });
    try {
      rmSync(join(spool, readdirSync(spool)[0]!), { recursive: true });
      const reply = await new Promise<string>((resolve) => {
        const s = net.connect(server.unixPath!);
        let text = '';
        s.on('data', (d) => (text += d.toString()));
        s.on('close', () => resolve(text));
        s.end(Buffer.concat([Buffer.from('zINSTREAM\0'), Buffer.from([0, 0, 0, 4]), Buffer.from('abcd'), Buffer.alloc(4)]));
      });
      return /cannot spool the stream/.test(reply) ? ScannerErrorCodes.ERR_SCANNER_SPOOL : reply;
    } finally {
      await server.close();
    }
  },
  ERR_SCANNER_LISTEN: async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (busy.address() as net.AddressInfo).port;
      return await codeOf(startScannerServer({ tcp: { host: '127.0.0.1', port }, log: () => {} }));
    } finally {
      busy.close();
    }
  },
  ERR_SCANNER_NON_LOOPBACK: () => codeOf(startScannerServer({ tcp: { host: '0.0.0.0', port: 0 } })),
};

describe('every error code is raised by the API', () => {
  it('the table covers the catalog, except ERR_SCANNER_WORKER_FAILED', () => {
    // ERR_SCANNER_WORKER_FAILED is the result of a scan whose worker thread died twice under it (a
    // crash or out-of-memory); no input makes a worker die, so no test here can raise it honestly.
    expect([...Object.keys(kRaisedBy), 'ERR_SCANNER_WORKER_FAILED'].sort()).toEqual(Object.keys(ScannerErrorCodes).sort());
  });
  for (const [code, raise] of Object.entries(kRaisedBy)) {
    it(code, async () => {
      expect(await raise()).toBe(code);
    });
  }
});
