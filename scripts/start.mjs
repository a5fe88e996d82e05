#!/usr/bin/env node
// `npm start`: the filer emulator (apps/filer) on the embedded default, or on `--config FILE`.
// `npm start -- --port 9443` passes flags; AVSCAN_STATE_DIR, AVSCAN_PORT, AVSCAN_HOST, AVSCAN_USER and
// AVSCAN_PASSWORD do the same from the environment. The setup step before it has built everything.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './pnpm.mjs';
import { useSupportedNode } from './runtime.mjs';

await useSupportedNode();

const { main } = await import(pathToFileURL(path.join(repoRoot, 'apps', 'filer', 'dist', 'main.js')).href);
await main(process.argv);
