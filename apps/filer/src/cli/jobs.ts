// The CLI's on-demand side: `jobs`, `run <policy>` and `job <id>` (following a job with a
// cli-progress bar until it ends), `reports` and `report <id>` tables. The bar goes to stderr, so
// stdout keeps only the result; on a terminal it redraws in place, elsewhere it prints a line a second.
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import type { ApiClient } from './client.js';
import { cell, table, when } from './render.js';
import { sleep } from './sleep.js';

type Json = any;

export interface JobCommandsContext {
  api(): ApiClient;
  svmOf(name: string | undefined): Promise<{ name: string; uuid: string }>;
  out(text: string): void;
  json(v: unknown): void;
  wantsJson(): boolean;
  /** Where the progress bar goes. */
  readonly progress: { write(s: string): void; readonly isTTY: boolean; readonly columns?: number };
  readonly signal: AbortSignal | undefined;
  /** Sets the exit code (3 when a job found infected files). */
  exit(code: number): void;
}

const kPollMs = 200;

/** Sizes of scanned data rarely divide evenly (unlike configured limits, which `bytes` prints exactly). */
export function size(n: unknown): string {
  if (typeof n !== 'number' || !Number.isFinite(n)) return cell(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

const rate = (n: unknown): string => (typeof n === 'number' ? `${n}/s` : '-');
const secs = (n: unknown): string => (typeof n === 'number' ? `${n}s` : '-');

export function renderJobs(records: Json[]): string {
  const t = table(['Job', 'SVM', 'Policy', 'Kind', 'State', 'Started', 'Files', 'Infected', 'Bytes', 'Rate']);
  for (const r of records) {
    t.push([cell(r.uuid), cell(r.svm?.name), cell(r.name), cell(r.kind), cell(r.state), when(r.start_time), `${cell(r.files?.checked)}/${cell(r.files?.total)}`, cell(r.files?.infected), size(r.bytes), rate(r.rate?.files_per_sec)]);
  }
  return t.toString();
}

export function renderReports(records: Json[]): string {
  const t = table(['Report', 'Kind', 'Policy', 'State', 'Start', 'Duration', 'Files', 'Size', 'Infected', 'Fails']);
  for (const r of records) t.push([cell(r.id), cell(r.kind), cell(r.policy), cell(r.state), when(r.start_time), secs(r.duration), cell(r.files_scanned), size(r.total_bytes), cell(r.infected_count), cell(r.scan_fails)]);
  return t.toString();
}

/** One report: its fields (OneFS's report fields), then its infected files. */
export function renderReport(r: Json): string {
  const t = table(['Field', 'Value']);
  t.push(
    ['Report', cell(r.id)], ['Kind', cell(r.kind)], ['Policy', cell(r.policy)], ['SVM', cell(r.svm?.name)], ['State', cell(r.state)],
    ['Start', when(r.start_time)], ['End', when(r.end_time)], ['Duration', secs(r.duration)], ['Files scanned', cell(r.files_scanned)],
    ['Total size', size(r.total_bytes)], ['Bandwidth', `${size(r.bandwidth)}/s`], ['Throughput', rate(r.throughput)],
    ['Scan failures', cell(r.scan_fails)], ['Infected', cell(r.infected_count)], ['Response', cell(r.response)],
  );
  const files: Json[] = r.infected_files ?? [];
  if (files.length === 0) return t.toString();
  const f = table(['Infected file', 'Threats', 'Response', 'Time']);
  for (const i of files) f.push([cell(i.path), cell(i.threats), cell(i.response), when(i.time)]);
  return `${t.toString()}\n${f.toString()}`;
}

/** Follows a job (its `_links.self`) with a progress bar until it ends; returns its last record. */
export async function followJob(ctx: JobCommandsContext, href: string): Promise<Json> {
  const bar = new SingleBar({
    stream: ctx.progress as unknown as NodeJS.WritableStream,
    format: ' {bar} {percentage}% | {value}/{total} files | {infected} infected | {rate} files/s | ETA {eta_s}s',
    barsize: 30, noTTYOutput: true, notTTYSchedule: 1000, hideCursor: false, etaBuffer: 20,
  });
  let job = await ctx.api().get(href);
  bar.start(Math.max(1, job.files?.total ?? job.files?.checked ?? 1), job.files?.checked ?? 0, { infected: 0, rate: 0, eta_s: '?' });
  const update = (j: Json): void => {
    const total = j.files?.total ?? Math.max(j.files?.checked ?? 0, 1);
    bar.setTotal(Math.max(total, 1));
    bar.update(j.files?.checked ?? 0, { infected: j.files?.infected ?? 0, rate: j.rate?.files_per_sec ?? 0, eta_s: j.eta ?? '?' });
  };
  while (job.state === 'running' && ctx.signal?.aborted !== true) {
    update(job);
    await sleep(kPollMs, ctx.signal);
    job = await ctx.api().get(href);
  }
  update(job);
  bar.stop();
  return job;
}

export function addJobCommands(program: Command, ctx: JobCommandsContext): void {
  program.command('jobs').description('on-demand jobs of an SVM, newest first').option('--svm <name>', 'the SVM (default: the only one)')
    .option('--state <state>', 'running, completed, cancelled, failed or interrupted').action(async (o: { svm?: string; state?: string }) => {
      const svm = await ctx.svmOf(o.svm);
      const records = await ctx.api().records(`/api/protocols/vscan/${svm.uuid}/jobs`, { fields: '*', order_by: 'start_time desc', ...(o.state ? { state: o.state } : {}) });
      if (ctx.wantsJson()) ctx.json(records);
      else ctx.out(renderJobs(records));
    });

  const finish = async (job: Json): Promise<void> => {
    if (ctx.wantsJson()) return ctx.json(job);
    const report = await ctx.api().get(job.report._links.self.href).catch(() => undefined);
    ctx.out(`job ${job.uuid} ${job.state}: ${job.files.checked} files checked, ${job.files.scanned} scanned, ${job.files.current} current, ${job.files.infected} infected, ${size(job.bytes)}`);
    if (report !== undefined) ctx.out(renderReport(report));
    if (job.files.infected > 0) ctx.exit(3);
    else if (job.state !== 'completed') ctx.exit(1);
  };

  program.command('run <policy>').description('run an on-demand policy now and follow its job with a progress bar')
    .option('--svm <name>', 'the SVM (default: the only one)').option('--no-wait', 'print the job and return at once').action(async (policy: string, o: { svm?: string; wait: boolean }) => {
      const svm = await ctx.svmOf(o.svm);
      const r = await ctx.api().call('POST', `/api/protocols/vscan/${svm.uuid}/on-demand-policies/${encodeURIComponent(policy)}/run`);
      const href = r.json.job._links.self.href as string;
      if (!o.wait) return ctx.wantsJson() ? ctx.json(r.json) : ctx.out(`job ${r.json.job.uuid} started: ${href}`);
      await finish(await followJob(ctx, href));
    });
  program.command('job <id>').description('follow an on-demand job (or print it once it ended)').option('--svm <name>', 'the SVM (default: the only one)')
    .option('--cancel', 'cancel it').action(async (id: string, o: { svm?: string; cancel?: boolean }) => {
      const svm = await ctx.svmOf(o.svm);
      const href = `/api/protocols/vscan/${svm.uuid}/jobs/${encodeURIComponent(id)}`;
      if (o.cancel === true) {
        const r = await ctx.api().call('DELETE', href);
        return ctx.wantsJson() ? ctx.json(r.json.records[0]) : ctx.out(`job ${id} ${r.json.records[0].state}`);
      }
      await finish(await followJob(ctx, href));
    });
  program.command('reports').description('scan reports (on-demand jobs and daily on-access), newest first')
    .option('--kind <kind>', 'on-demand or on-access-daily').option('--policy <name>', 'one policy').option('--max <n>', 'at most n reports', '20')
    .action(async (o: { kind?: string; policy?: string; max: string }) => {
      // One page: `records` would follow `_links.next` past --max.
      const page = await ctx.api().get('/api/protocols/vscan/reports', {
        fields: '*', order_by: 'start_time desc', max_records: o.max, ...(o.kind ? { kind: o.kind } : {}), ...(o.policy ? { policy: o.policy } : {}),
      });
      const records: Json[] = page?.records ?? [];
      if (ctx.wantsJson()) ctx.json(records);
      else ctx.out(renderReports(records));
    });
  program.command('report <id>').description('one report with its infected files').action(async (id: string) => {
    const r = await ctx.api().get(`/api/protocols/vscan/reports/${encodeURIComponent(id)}`);
    if (ctx.wantsJson()) ctx.json(r);
    else ctx.out(renderReport(r));
  });
}
