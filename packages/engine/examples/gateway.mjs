// How a NAS gateway embeds the engine: one store, one dispatcher, one engine per SVM, and one call
// per file operation. Run it: node packages/engine/examples/gateway.mjs (after `npm run build`).
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDispatcher } from '@avscan/dispatch';
import { createEngine } from '@avscan/engine';
import { changeStampOf, openStore } from '@avscan/store';

const dir = mkdtempSync(path.join(os.tmpdir(), 'gateway-'));
const store = openStore(path.join(dir, 'isi_avscan.db'), { nodeId: 'node1' });
const dispatcher = createDispatcher({ scanner_pools: [{ name: 'pool1', servers: ['builtin:'], role: 'primary' }] });
await dispatcher.ready();
const engine = createEngine({ store, dispatcher, policy: { name: 'default_CIFS', scope: { exclude_extensions: ['tmp'] } } });

// What the gateway knows about a file when a client touches it.
function access(file, svmPath) {
  const st = statSync(file, { bigint: true });
  const changeStamp = changeStampOf({ size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino });
  return { volume: 'vol1', fileId: String(st.ino), path: svmPath, size: Number(st.size), file, changeStamp };
}

writeFileSync(path.join(dir, 'report.docx'), 'quarterly numbers');
const report = access(path.join(dir, 'report.docx'), '\\vol1\\report.docx');
const show = ({ allow, reason, verdict }) => console.log(allow ? 'allow' : 'deny ', reason, verdict?.result ?? '');
show(await engine.open(report)); // allow clean clean        — scanned by the built-in scanner
show(await engine.open(report)); // allow scan-current       — no scanner call

writeFileSync(path.join(dir, 'x.com'), 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$' + 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*');
const bad = access(path.join(dir, 'x.com'), '\\vol1\\x.com');
show(await engine.open(bad)); // deny  infected infected
show(await engine.open(bad)); // deny  quarantined           — denied without a scan

await engine.shutdown();
await dispatcher.close();
await store.close();
