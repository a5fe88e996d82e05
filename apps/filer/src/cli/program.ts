// The `avscan` command line: management views over the ONTAP REST API and the data-path operations
// over `/data`, as readable tables or, with `--json`, the API's own JSON. Exit codes: 0 done, 1 error,
// 2 usage, 3 access denied (so scripts can tell a deny from a failure).
import { createReadStream, createWriteStream } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { ApiClient, ApiError, kDefaultUrl, type Query } from './client.js';
import { addJobCommands } from './jobs.js';
import { sleep } from './sleep.js';
import {
  eventLine, renderAnswer, renderDenied, renderEvents, renderExplain, renderFile, renderList, renderPolicies, renderPools, renderServers, renderStatus,
} from './render.js';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Raw bytes for `read` (stdout by default). */
  readonly stdoutBytes?: (data: Buffer) => void;
  readonly stdin?: NodeJS.ReadableStream;
  readonly env?: NodeJS.ProcessEnv;
  /** Stops `events --follow` (SIGINT in the real CLI). */
  readonly signal?: AbortSignal;
  /** stderr is a terminal: the progress bar redraws in place. @default false */
  readonly stderrIsTTY?: boolean;
}

export const kExitDenied = 3;

interface Globals {
  url: string;
  user?: string;
  password?: string;
  insecure?: boolean;
  json?: boolean;
}

/** `vs1/share/dir/file` (or with `\`) → SVM, share and the path inside the share, URL-encoded. */
export function parseTarget(target: string): { svm: string; share: string; path: string; url: string } {
  const parts = target.split(/[\\/]+/).filter((p) => p.length > 0);
  if (parts.length < 2) throw new ApiError(0, 'ERR_FILER_INVALID_REQUEST', `target \`${target}\` must be <svm>/<share>[/<path>]`, 'target');
  const [svm, share, ...rest] = parts as [string, string, ...string[]];
  const url = `/data/${[svm, share, ...rest].map(encodeURIComponent).join('/')}`;
  return { svm, share, path: rest.join('/'), url };
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const env = io.env ?? process.env;
  let exit = 0;
  let client: ApiClient | undefined;
  const program = new Command('avscan');
  program
    .description('avscan filer: Vscan status, policies, pools, events, decisions, share files through the on-access engine, on-demand jobs and reports')
    .addOption(new Option('--url <url>', 'filer REST API').env('AVSCAN_URL').default(kDefaultUrl))
    .addOption(new Option('--user <name>', 'Basic auth user').env('AVSCAN_USER'))
    .addOption(new Option('--password <password>', 'Basic auth password').env('AVSCAN_PASSWORD'))
    .option('-k, --insecure', 'accept a self-signed certificate')
    .option('--json', 'print the API JSON instead of tables')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .showHelpAfterError();
  // commander reads env through process.env; tests pass their own.
  for (const [name, key] of [['url', 'AVSCAN_URL'], ['user', 'AVSCAN_USER'], ['password', 'AVSCAN_PASSWORD']] as const) {
    if (env[key] !== undefined && process.env[key] === undefined) program.setOptionValueWithSource(name, env[key], 'env');
  }

  const g = (): Globals => program.opts<Globals>();
  const api = (): ApiClient => (client ??= new ApiClient({ url: g().url, user: g().user, password: g().password, insecure: g().insecure === true || env['AVSCAN_INSECURE'] === '1' }));
  const out = (text: string): void => io.stdout(text.endsWith('\n') ? text : `${text}\n`);
  const json = (v: unknown): void => out(JSON.stringify(v, null, 2));

  /** The SVM's uuid; without a name, the only SVM (an error when there are several). */
  async function svmOf(name: string | undefined): Promise<{ name: string; uuid: string }> {
    const svms = await api().records('/api/svm/svms', { fields: 'uuid,name', ...(name !== undefined ? { name } : {}) });
    if (svms.length === 0) throw new ApiError(404, '4', name !== undefined ? `no svm \`${name}\`` : 'the filer has no SVM', 'svm');
    if (svms.length > 1 && name === undefined) throw new ApiError(0, 'ERR_FILER_INVALID_REQUEST', `several SVMs (${svms.map((s) => s.name).join(', ')}): give --svm`, 'svm');
    return { name: svms[0].name, uuid: svms[0].uuid };
  }

  /** Records of a per-SVM collection, for one SVM or every SVM, each tagged with its SVM. */
  async function perSvm(name: string | undefined, leaf: string, query: Query = { fields: '*' }): Promise<any[]> {
    const svms = name !== undefined ? [await svmOf(name)] : await api().records('/api/svm/svms', { fields: 'uuid,name' });
    const out: any[] = [];
    for (const s of svms) {
      for (const r of await api().records(`/api/protocols/vscan/${s.uuid}/${leaf}`, query)) out.push({ svm: { name: s.name, uuid: s.uuid }, ...r });
    }
    return out;
  }

  /** A data-path call: its answer printed, a deny printed with exit code 3. */
  async function data(op: string, target: string, method: 'GET' | 'POST', query: Query): Promise<any> {
    const t = parseTarget(target);
    try {
      const r = await api().call(method, t.url, { query: { op, ...query } });
      if (g().json) json(r.json);
      else out(renderAnswer(op, r.json));
      return r.json;
    } catch (err) {
      if (err instanceof ApiError && err.code === 'STATUS_ACCESS_DENIED') {
        exit = kExitDenied;
        if (g().json) json(err.body);
        else out(renderDenied(op, target, err));
        return undefined;
      }
      throw err;
    }
  }

  program.command('status').description('cluster version and each SVM\'s Vscan state, enabled policy, pools and connected servers').action(async () => {
    const cluster = await api().get('/api/cluster', { fields: 'name,version' });
    const vscan = await api().records('/api/protocols/vscan', { fields: '*' });
    const servers = await api().records('/api/protocols/vscan/server-status', { fields: '*' });
    if (g().json) json({ cluster, vscan, servers });
    else out(renderStatus(cluster, vscan, servers));
  });
  program.command('servers').description('scanner servers and their connection state').action(async () => {
    const records = await api().records('/api/protocols/vscan/server-status', { fields: '*' });
    if (g().json) json(records);
    else out(renderServers(records));
  });
  program.command('policies').description('on-access policies').option('--svm <name>', 'one SVM (default: all)').action(async (o: { svm?: string }) => {
    const records = await perSvm(o.svm, 'on-access-policies');
    if (g().json) json(records);
    else out(renderPolicies(records));
  });
  program.command('pools').description('scanner pools').option('--svm <name>', 'one SVM (default: all)').action(async (o: { svm?: string }) => {
    const records = await perSvm(o.svm, 'scanner-pools');
    if (g().json) json(records);
    else out(renderPools(records));
  });
  program.command('events').description('Vscan events (scanner connections, infected files, timeouts, policy changes)')
    .option('--svm <name>', 'the SVM (default: the only one)')
    .option('--type <type>', 'only events of this type (ONTAP query syntax)')
    .option('--max <n>', 'at most this many, newest first', '50')
    .option('-f, --follow', 'keep printing new events until interrupted')
    .option('--interval <seconds>', 'poll interval with --follow', '2')
    .action(async (o: { svm?: string; type?: string; max: string; follow?: boolean; interval: string }) => {
      const s = await svmOf(o.svm);
      const query: Query = { fields: '*', max_records: o.max, ...(o.type !== undefined ? { type: o.type } : {}) };
      const fetch = async (): Promise<any[]> => ((await api().get(`/api/protocols/vscan/${s.uuid}/events`, query))?.records as any[] | undefined) ?? [];
      const first = await fetch();
      if (!o.follow) {
        if (g().json) json(first);
        else out(renderEvents(first));
        return;
      }
      // Follow: poll, print what was not seen. Seen keys are bounded (the newest 10,000).
      const seen = new Set<string>();
      const key = (r: any): string => (r.id !== undefined ? String(r.id) : JSON.stringify(r));
      const show = (records: any[]): void => {
        const fresh = records.filter((r) => !seen.has(key(r)));
        fresh.sort((a, b) => String(a.time ?? a.id ?? '').localeCompare(String(b.time ?? b.id ?? ''), undefined, { numeric: true }));
        for (const r of fresh) {
          seen.add(key(r));
          out(g().json ? JSON.stringify(r) : eventLine(r));
        }
        while (seen.size > 10_000) seen.delete(seen.values().next().value as string);
      };
      show(first);
      const interval = Math.max(0.05, Number(o.interval)) * 1000;
      const stopped = (): boolean => io.signal?.aborted === true;
      for (;;) {
        await sleep(interval, io.signal);
        if (stopped()) break;
        show(await fetch());
      }
    });
  program.command('explain <path>').description('why a file would be scanned or not: the decision and every rule consulted')
    .option('--svm <name>', 'the SVM (default: the only one)')
    .option('--size <bytes>', 'file size to judge')
    .option('--execute', 'an execute open')
    .option('--policy <name>', 'try this on-access policy (may be disabled) instead of the enabled one')
    .action(async (p: string, o: { svm?: string; size?: string; execute?: boolean; policy?: string }) => {
      const s = await svmOf(o.svm);
      const r = await api().get(`/api/protocols/vscan/${s.uuid}/explain`, { path: p, size: o.size, execute: o.execute === true ? true : undefined, policy: o.policy });
      if (g().json) json(r);
      else out(renderExplain({ path: p, ...r }));
    });
  program.command('files <path>').description('scan attributes of one file (scan time, result, signature stamp, current or not, quarantined)')
    .option('--svm <name>', 'the SVM (default: the only one)')
    .action(async (p: string, o: { svm?: string }) => {
      const s = await svmOf(o.svm);
      const r = await api().get(`/api/protocols/vscan/${s.uuid}/files`, { path: p });
      if (g().json) json(r);
      else out(renderFile({ path: p, ...r }));
    });

  // --- data path: <svm>/<share>/<path> ----------------------------------------------------------------
  program.command('open <target>').description('open a share file (the on-access decision): <svm>/<share>/<path>')
    .addOption(new Option('--mode <mode>', 'access mode').choices(['read', 'write', 'execute']).default('read'))
    .action(async (target: string, o: { mode: string }) => {
      await data('open', target, 'GET', { mode: o.mode });
    });
  program.command('read <target>').description('read a share file\'s bytes (after the open and read decisions)')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action(async (target: string, o: { output?: string }) => {
      const t = parseTarget(target);
      try {
        const r = await api().call('GET', t.url, { query: { op: 'read' } });
        if (o.output !== undefined) await new Promise<void>((resolve, reject) => createWriteStream(o.output!).on('error', reject).end(r.bytes, resolve));
        else (io.stdoutBytes ?? ((b: Buffer) => io.stdout(b.toString('utf8'))))(r.bytes);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 'STATUS_ACCESS_DENIED')) throw err;
        exit = kExitDenied;
        io.stderr(`${renderDenied('read', target, err)}\n`);
      }
    });
  program.command('write <target> [source]').description('write a share file from a local file (or stdin), then close it (a close after write queues its scan)')
    .option('--no-close', 'do not close after writing')
    .action(async (target: string, source: string | undefined, o: { close: boolean }) => {
      const t = parseTarget(target);
      const body = source === undefined || source === '-' ? (io.stdin ?? process.stdin) : createReadStream(source);
      const w = await api().call('PUT', t.url, { body });
      if (!o.close) {
        if (g().json) json(w.json);
        else out(`write ${w.json.path}: ${w.json.bytes} bytes${w.json.created ? ' (created)' : ''}`);
        return;
      }
      if (!g().json) out(`write ${w.json.path}: ${w.json.bytes} bytes${w.json.created ? ' (created)' : ''}`);
      await data('close', target, 'POST', { wrote: 1 });
    });
  program.command('close <target>').description('close a share file').option('--wrote', 'the handle wrote (close after write)').action(async (target: string, o: { wrote?: boolean }) => {
    await data('close', target, 'POST', { wrote: o.wrote === true ? 1 : 0 });
  });
  program.command('rename <target> <to>').description('rename a share file; <to> is a path in the same share').action(async (target: string, to: string) => {
    await data('rename', target, 'POST', { to });
  });
  program.command('rm <target>').alias('delete').description('delete a share file (or an empty folder)').action(async (target: string) => {
    const r = await api().call('DELETE', parseTarget(target).url);
    if (g().json) json(r.json);
    else out(`delete ${r.json.path}: done`);
  });
  program.command('ls <target>').alias('list').description('list a share folder').action(async (target: string) => {
    const r = await api().call('GET', parseTarget(target).url, { query: { op: 'list' } });
    if (g().json) json(r.json);
    else out(renderList(r.json));
  });
  program.command('scan <target>').description('scan one share file now, even when it is scan current (individual-file scan)').action(async (target: string) => {
    const r = await api().call('POST', parseTarget(target).url, { query: { op: 'scan' } });
    if (g().json) json(r.json);
    else out(`${renderAnswer('scan', r.json)}  result ${r.json.result}`);
  });

  addJobCommands(program, {
    api, svmOf, out, json, wantsJson: () => g().json === true, signal: io.signal,
    progress: { write: (s: string) => io.stderr(s), isTTY: io.stderrIsTTY === true },
    exit: (code) => { exit = code; },
  });

  try {
    await program.parseAsync(argv as string[], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      exit = err.exitCode === 0 ? 0 : 2;
    } else if (err instanceof ApiError) {
      io.stderr(`avscan: ${err.code !== '' ? `${err.code}: ` : ''}${err.message}${err.target !== undefined ? ` (target ${err.target})` : ''}\n`);
      exit = 1;
    } else {
      io.stderr(`avscan: ${(err as Error).message}\n`);
      exit = 1;
    }
  } finally {
    await client?.close();
  }
  return exit;
}
