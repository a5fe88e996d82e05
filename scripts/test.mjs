#!/usr/bin/env node
// The test command: typecheck the tests (vitest only transpiles), lint (ESLint, see eslint.config.js)
// and check for import cycles (scripts/import-cycles.mjs), then run every vitest project.
// Extra arguments go to vitest, e.g. `npm test -- packages/policy`; such a targeted run skips the lint
// and cycle steps (they always cover the whole tree), as does AVSCAN_SKIP_LINT=1.
import path from 'node:path';
import { repoRoot, run } from './pnpm.mjs';
import { useSupportedNode } from './runtime.mjs';

await useSupportedNode();

const bin = (name) => path.join(repoRoot, 'node_modules', '.bin', name);
const args = process.argv.slice(2);

async function step(name, cmd, cmdArgs) {
  const code = await run(cmd, cmdArgs);
  if (code !== 0) {
    console.error(`avscan: ${name} failed`);
    process.exit(code);
  }
}

await step('test typecheck', bin('tsc'), ['-p', 'tsconfig.tests.json']);
if (args.length === 0 && process.env.AVSCAN_SKIP_LINT !== '1') {
  await step('lint (eslint)', bin('eslint'), ['--cache', '--cache-location', path.join(repoRoot, 'node_modules', '.cache', 'eslint'), '.']);
  await step('import-cycle check', process.execPath, [path.join(repoRoot, 'scripts', 'import-cycles.mjs')]);
  console.log('avscan: lint and import-cycle check passed');
}
process.exit(await run(bin('vitest'), ['run', ...args]));
