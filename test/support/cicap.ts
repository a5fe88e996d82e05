// Starts a private c-icap with the virus_scan service on 127.0.0.1 (REAL-SCANNERS §2.2), using a clamd
// from `startClamd` as its engine (clamd_mod sends clamd paths inside c-icap's TmpDir, so both run
// here). The `avscan` alias has allow204 and no size limit (c-icap passes >5 MB unscanned otherwise).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../bench/lib/clamd.js';

export interface CicapHandle {
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  /** `icap://127.0.0.1:<port>/avscan` */
  readonly url: string;
  signal(sig: NodeJS.Signals): void;
  stop(): Promise<void>;
  log(): string;
}

/**
 * `port`: listen there (a restart on the same address); a free one by default. `clamdTcp` instead of
 * `clamdSocket`: clamd_mod then sends `zSCAN <path>` rather than `zFILDES` (which needs a unix socket).
 */
export async function startCicap(opts: {
  clamdSocket?: string; clamdTcp?: { host: string; port: number }; startTimeoutMs?: number; port?: number;
}): Promise<CicapHandle> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'avscan-cicap-'));
  const tmp = path.join(dir, 'tmp');
  mkdirSync(tmp);
  const port = opts.port ?? (await freePort());
  const conf = path.join(dir, 'c-icap.conf');
  writeFileSync(conf, [
    `PidFile ${dir}/c-icap.pid`,
    `CommandsSocket ${dir}/c-icap.ctl`,
    `Port 127.0.0.1:${port}`,
    'Timeout 60',
    'StartServers 1',
    'MaxServers 2',
    'MinSpareThreads 2',
    'MaxSpareThreads 8',
    'ThreadsPerChild 8',
    `TmpDir ${tmp}`,
    'DebugLevel 1',
    'ModulesDir /usr/lib/x86_64-linux-gnu/c_icap',
    'ServicesDir /usr/lib/x86_64-linux-gnu/c_icap',
    'TemplateDir /usr/share/c_icap/templates/',
    'TemplateDefaultLanguage en',
    'LoadMagicFile /etc/c-icap/c-icap.magic',
    `ServerLog ${dir}/server.log`,
    `AccessLog ${dir}/access.log`,
    'Module common clamd_mod.so',
    ...(opts.clamdTcp !== undefined
      ? [`clamd_mod.ClamdHost ${opts.clamdTcp.host}`, `clamd_mod.ClamdPort ${opts.clamdTcp.port}`]
      : [`clamd_mod.ClamdSocket ${opts.clamdSocket}`]),
    'Service antivirus_module virus_scan.so',
    'ServiceAlias avscan virus_scan?allow204=on&sizelimit=off&mode=simple',
    'virus_scan.ScanFileTypes TEXT DATA EXECUTABLE ARCHIVE GRAPHICS STREAM DOCUMENT',
    'virus_scan.SendPercentData 0',
    'virus_scan.MaxObjectSize 25M',
    'virus_scan.DefaultEngine clamd',
  ].join('\n') + '\n');
  // Its own process group: c-icap serves from forked children, which must stop with it (a child left
  // behind keeps the listening socket and answers for a restarted server).
  const child = spawn('/usr/bin/c-icap', ['-N', '-f', conf], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  const killGroup = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // the group is already gone
    }
  };
  let stderr = '';
  child.stderr?.on('data', (d) => { stderr += d.toString(); });
  let exited = false;
  child.once('exit', () => { exited = true; });
  const deadline = Date.now() + (opts.startTimeoutMs ?? 10_000);
  for (;;) {
    if (exited) throw new Error(`c-icap exited during startup: ${stderr}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.createConnection(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) { killGroup('SIGKILL'); throw new Error('c-icap did not open its port in time'); }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    host: '127.0.0.1', port, pid: child.pid!, url: `icap://127.0.0.1:${port}/avscan`,
    signal: (sig) => { if (!exited) child.kill(sig); },
    log: () => { try { return readFileSync(`${dir}/server.log`, 'utf8'); } catch { return ''; } },
    async stop() {
      if (!exited) {
        const gone = new Promise<void>((r) => child.once('exit', () => r()));
        killGroup('SIGTERM');
        const t = setTimeout(() => killGroup('SIGKILL'), 1500);
        await gone;
        clearTimeout(t);
      }
      killGroup('SIGKILL'); // children still finishing a kept-alive connection
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
