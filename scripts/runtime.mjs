// Picks the Node.js that builds, tests, benchmarks and runs avscan. The project supports Node 22 and
// 24 (Node 20 is end-of-life and better-sqlite3 13 needs 22). When the running Node is older, a pinned
// Node 24 LTS is taken from the npm registry's `node-<platform>-<arch>` package (binary and headers,
// verified by npm against the registry's integrity) into `.runtime/` of the checkout, and the calling
// script is re-run on it. `AVSCAN_NODE=22` or `=24` asks for that major line (CI runs the unit suite
// on 22 this way); a matching running Node is used as it is, so nothing is downloaded.
//
// Plain JavaScript that runs on Node 20: it is the first thing a fresh machine executes.
import { spawn, spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The Node versions fetched when the running one does not fit (one per supported major line). */
export const PINNED_NODE = { 22: '22.23.3', 24: '24.21.0' };
export const SUPPORTED_MAJORS = [22, 24];
const DEFAULT_MAJOR = 24;

const [runningMajor, runningMinor] = process.versions.node.split('.').map(Number);
/**
 * The oldest Node the whole project runs on: the filer's undici 8 needs 22.19 (commander 15: 22.12).
 * An older 22.x is treated like Node 20: the pinned Node is fetched.
 */
export const MIN_NODE = { major: 22, minor: 19 };
const runningFits = runningMajor > MIN_NODE.major || (runningMajor === MIN_NODE.major && runningMinor >= MIN_NODE.minor);

function wantedMajor() {
  const asked = process.env.AVSCAN_NODE;
  if (asked === undefined || asked === '') return runningFits ? runningMajor : DEFAULT_MAJOR;
  const major = Number(asked);
  if (!(major in PINNED_NODE)) {
    console.error(`avscan: AVSCAN_NODE=${asked} is not a supported Node line (${SUPPORTED_MAJORS.join(' or ')})`);
    process.exit(2);
  }
  return major;
}

/** Folder holding `bin/node` of the pinned version for this major line, fetched if absent. */
export function pinnedNodeHome(major) {
  const version = PINNED_NODE[major];
  const home = path.join(repoRoot, '.runtime', `node-v${version}-${process.platform}-${process.arch}`);
  if (existsSync(path.join(home, 'bin', 'node'))) return home;

  const pkg = `node-${process.platform}-${process.arch}@${version}`;
  console.log(`avscan: Node ${process.versions.node} is older than ${MIN_NODE.major}.${MIN_NODE.minor}; fetching Node ${version} (${pkg}) from the npm registry into .runtime/`);
  mkdirSync(path.dirname(home), { recursive: true });
  const work = mkdtempSync(path.join(path.dirname(home), '.fetch-'));
  try {
    const packed = spawnSync('npm', ['pack', pkg, '--silent', '--pack-destination', work], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (packed.status !== 0 || tarball === undefined) throw new Error(`npm pack ${pkg} failed (exit ${packed.status})`);
    const untar = spawnSync('tar', ['-xzf', tarball], { cwd: work, stdio: 'inherit' });
    if (untar.status !== 0) throw new Error(`cannot unpack ${tarball} (tar exit ${untar.status})`);
    // The rename is the commit point: a half-unpacked download never looks installed.
    renameSync(path.join(work, 'package'), home);
  } catch (err) {
    console.error(`avscan: ${err.message}; install Node 22 or 24 yourself and run the command again`);
    process.exit(1);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return home;
}

/**
 * Call first in every entry script. Returns when this process already runs a wanted Node; otherwise
 * re-runs the same script with the same arguments on the pinned Node (its `bin` first on PATH, so
 * npx, pnpm, tsc and vitest run on it too) and exits with its exit code.
 */
export async function useSupportedNode() {
  const major = wantedMajor();
  if (runningMajor === major && runningFits) return;
  const home = pinnedNodeHome(major);
  const node = path.join(home, 'bin', 'node');
  const env = {
    ...process.env,
    PATH: `${path.join(home, 'bin')}${path.delimiter}${process.env.PATH ?? ''}`,
    AVSCAN_NODE: String(major),
  };
  const child = spawn(node, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env });
  // Forward stop requests so `npm start`'s graceful shutdown (first signal) and hard exit (second) work.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  const code = await new Promise((resolve) => {
    child.on('exit', (c, s) => resolve(c ?? 128 + (constants.signals[s] ?? 0)));
    child.on('error', (err) => {
      console.error(`avscan: cannot start ${node}: ${err.message}`);
      resolve(127);
    });
  });
  process.exit(code);
}
