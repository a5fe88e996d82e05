#!/usr/bin/env node
// The test command: typecheck the tests (vitest only transpiles), then run every vitest project.
// Extra arguments go to vitest, e.g. `npm test -- packages/policy`.
import path from 'node:path';
import { repoRoot, run } from './pnpm.mjs';
import { useSupportedNode } from './runtime.mjs';

await useSupportedNode();

const bin = (name) => path.join(repoRoot, 'node_modules', '.bin', name);

const typecheck = await run(bin('tsc'), ['-p', 'tsconfig.tests.json']);
if (typecheck !== 0) {
  console.error('avscan: test typecheck failed');
  process.exit(typecheck);
}
process.exit(await run(bin('vitest'), ['run', ...process.argv.slice(2)]));
