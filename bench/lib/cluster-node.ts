// One gateway node of bench/cluster in its own process: opens a PgStore and runs what stdin asks.
// Usage: node cluster-node.js <connection JSON> <nodeId> <batchMaxRows>
//   "WRITE <from> <n> <inFlight>"  writes records from..from+n-1 (at most inFlight unacknowledged);
//                                 prints "WROTE <startEpochMs> <endEpochMs>"
//   "LOCK <fileId>"               acquires the file's lock; prints "LOCKED"
//   "RECORD <fileId>"             prints "SENDING <epochMs>", records the file clean releasing the lock; prints "RECORDED"
//   "EXIT"                        closes the store and exits
import readline from 'node:readline';
import { openPgStore } from '@avscan/store-pg';
import { clusteredRecord } from './records.js';

const [connJson, nodeId, batchArg] = process.argv.slice(2);
const store = await openPgStore(JSON.parse(connJson!) as object, { nodeId: nodeId!, batchMaxRows: Number(batchArg), poolMax: 4 });
const out = (line: string): void => void process.stdout.write(`${line}\n`);

async function write(from: number, n: number, inFlight: number): Promise<void> {
  let next = from;
  const end = from + n;
  const lane = async (): Promise<void> => {
    while (next < end) await store.recordScan(clusteredRecord(next++));
  };
  const t0 = Date.now();
  await Promise.all(Array.from({ length: inFlight }, lane));
  out(`WROTE ${t0} ${Date.now()}`);
}

const key = (fileId: string) => ({ volume: 'vol1', fileId });
out('READY');
for await (const line of readline.createInterface({ input: process.stdin })) {
  const [cmd, a, b, c] = line.split(' ');
  if (cmd === 'WRITE') await write(Number(a), Number(b), Number(c));
  else if (cmd === 'LOCK') out((await store.acquireLock(key(a!), 'bench', `${nodeId}-${a}`, 60_000)).acquired ? 'LOCKED' : 'BUSY');
  else if (cmd === 'RECORD') {
    out(`SENDING ${Date.now()}`);
    await store.recordScan(
      { volume: 'vol1', fileId: a!, path: `/wake/${a}`, scanResult: 'clean', changeStamp: 's', sigTimestamp: 1 },
      { releaseLock: { owner: 'bench', scanId: `${nodeId}-${a}` } },
    );
    out('RECORDED');
  } else if (cmd === 'EXIT') break;
}
await store.close();
// stdin (a pipe from the parent) would keep the event loop alive after the loop ended.
process.stdin.destroy();
