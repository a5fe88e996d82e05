// The zSCAN client of bench/lib/zscan-client.ts in a process of its own, as smbd is: run with
// `<socket> <file list (JSON array)>`, it zSCANs the files one after another and prints
// `{ secs, notOk, cpuMs }` (its own CPU over the loop) as JSON on stdout. In its own process the
// client neither shares the front door's event loop (each wake-up of one would also serve the other)
// nor counts in the front door's CPU.
import { readFileSync } from 'node:fs';
import { zscanAll } from './zscan-client.js';

const [socketPath, list] = process.argv.slice(2);
if (socketPath === undefined || list === undefined) {
  console.error('usage: zscan-child.js <socket> <file list JSON>');
  process.exit(2);
}
const files = JSON.parse(readFileSync(list, 'utf8')) as string[];
const cpu0 = process.cpuUsage();
const r = await zscanAll(socketPath, files);
const cpu = process.cpuUsage(cpu0);
process.stdout.write(JSON.stringify({ secs: r.secs, notOk: r.notOk, cpuMs: (cpu.user + cpu.system) / 1000 }));
