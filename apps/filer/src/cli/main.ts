#!/usr/bin/env node
// The `avscan` executable. Everything is in program.ts (testable in process); this wires the process.
import { runCli } from './program.js';

const ac = new AbortController();
process.once('SIGINT', () => ac.abort());
const code = await runCli(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  stdoutBytes: (b) => process.stdout.write(b),
  signal: ac.signal,
  stderrIsTTY: process.stderr.isTTY === true,
});
process.exitCode = code;
