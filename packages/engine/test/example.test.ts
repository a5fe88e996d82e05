// The README's embedding example must run as printed.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

it('examples/gateway.mjs runs and answers as its comments say', async () => {
  const script = fileURLToPath(new URL('../examples/gateway.mjs', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 20_000 });
  expect(stdout.trim().split('\n').map((l) => l.trim().replace(/\s+/g, ' '))).toEqual([
    'allow clean clean',
    'allow scan-current',
    'deny infected infected',
    'deny quarantined',
  ]);
}, 30_000);
