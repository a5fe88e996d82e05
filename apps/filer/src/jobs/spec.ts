// What an on-demand job scans, normalised from its three sources: an ONTAP on-demand policy
// (`scan_paths`, `scope`, `log_path`; UNIX paths from the SVM root), a OneFS CAVA job
// (`paths_to_include` under `/ifs/<svm>/…`, `paths_to_exclude` relative to them, `file_extensions` +
// `file_extension_action`, `scan_if_no_extension`, `ignore_previous_scan_status`) and an individual
// file. The scope becomes an ONTAP on-access policy compiled by @avscan/policy, so an on-demand job
// judges files with the exact rules on-access scanning uses (exclude beats include, prefix paths).
import { compilePolicy, type CompiledPolicy } from '@avscan/policy';
import { FilerError, FilerErrorCodes, show } from '../errors.js';
import type { FilerRuntime } from '../model.js';
import { pathComponents } from '../paths.js';

/** ONTAP's on-demand defaults (ONTAP-API.md §1.2): everything, 10 GiB at most, files without extension too. */
export const kOnDemandDefaults = Object.freeze({
  include_extensions: Object.freeze(['*']),
  max_file_size: 10737418240,
  scan_without_extension: true,
});

/** OneFS has no per-job size cap: the largest size an ONTAP scope accepts. */
const kNoSizeLimit = 1099511627776;

export interface OntapOnDemandPolicy {
  readonly name: string;
  /** UNIX form from the SVM root: `/vol1/`, `/vol2/cifs/`. */
  readonly scan_paths: readonly string[];
  /** UNIX form from the SVM root: where the report file goes. */
  readonly log_path?: string;
  readonly scope?: {
    readonly include_extensions?: readonly string[];
    readonly exclude_extensions?: readonly string[];
    /** UNIX form from the SVM root: `/vol1/cold-files/`. */
    readonly exclude_paths?: readonly string[];
    readonly max_file_size?: number;
    readonly scan_without_extension?: boolean;
  };
  readonly schedule?: { readonly name?: string } | string;
}

export interface OnefsJob {
  readonly job_name: string;
  /** Absolute: `/ifs/<svm>/<volume>/<path>`. */
  readonly paths_to_include: readonly string[];
  /** Relative to each include path (or absolute under /ifs). */
  readonly paths_to_exclude?: readonly string[];
  readonly file_extensions?: readonly string[];
  /** @default 'include' */
  readonly file_extension_action?: 'include' | 'exclude';
  /** @default true */
  readonly scan_if_no_extension?: boolean;
  /** Scan files even when scan current. @default false */
  readonly ignore_previous_scan_status?: boolean;
  readonly schedule?: string;
}

export interface JobRoot {
  readonly volume: string;
  /** Components from the volume root. */
  readonly components: readonly string[];
}

/** A job ready to run: what the runner persists (JSON) and resumes from. */
export interface JobSpec {
  readonly svm: string;
  readonly name: string;
  readonly kind: 'ontap' | 'onefs' | 'file';
  readonly roots: readonly JobRoot[];
  /** ONTAP on-access policy JSON holding the job's scope. */
  readonly policy: Readonly<Record<string, unknown>>;
  /** Scan scan-current files too. */
  readonly force: boolean;
  /** ONTAP `log_path`: the report file is written there. */
  readonly logPath?: JobRoot;
}

function invalid(message: string, target: string, ontapCode?: number): FilerError {
  return new FilerError(FilerErrorCodes.JOB_INVALID, message, target, ontapCode === undefined ? undefined : { ontapCode });
}

function stringList(v: unknown, target: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalid(`\`${target}\` must be a list of strings, got ${show(v)}`, target);
  return v as string[];
}

/** `/vol1/dir/` (UNIX, from the SVM root) → its volume and components; the volume must exist. */
function unixRoot(runtime: FilerRuntime, svm: string, raw: unknown, target: string, code: number): JobRoot {
  if (typeof raw !== 'string' || !raw.startsWith('/') || raw.includes('\\')) {
    throw invalid(`\`${target}\` must be a path from the SVM root in UNIX form (\`/vol1/dir\`), got ${show(raw)}`, target, code);
  }
  const parts = pathComponents(raw);
  const [volume, ...components] = parts;
  if (volume === undefined || runtime.volume(svm, volume) === undefined) throw invalid(`\`${target}\` ${show(raw)} names no volume of svm ${show(svm)}`, target, code);
  return { volume, components };
}

/** `/vol1/a/` → `\vol1\a\` (a trailing separator keeps ONTAP's "only below the folder" meaning). */
function toPolicyPath(unix: string): string {
  return unix.replace(/\/+/g, '\\');
}

function extensions(list: readonly string[]): string[] {
  // OneFS writes `.exe` or `*.exe`; ONTAP scopes want `exe`.
  return list.map((e) => e.replace(/^\*?\./, ''));
}

function scopePolicy(scope: Record<string, unknown>): Record<string, unknown> {
  const policy = { name: 'on-demand', enabled: true, mandatory: true, scope: { ...scope, scan_readonly_volumes: true, only_execute_access: false } };
  checkPolicy(policy);
  return policy;
}

function checkPolicy(policy: Record<string, unknown>): CompiledPolicy {
  try {
    return compilePolicy(policy);
  } catch (err) {
    const e = err as { message: string; target?: string };
    throw invalid(e.message, e.target ?? 'scope', 10027107);
  }
}

export function ontapJob(runtime: FilerRuntime, svm: string, p: OntapOnDemandPolicy): JobSpec {
  if (p === null || typeof p !== 'object') throw invalid(`an on-demand policy must be an object, got ${show(p)}`, 'policy');
  if (runtime.svm(svm) === undefined) throw new FilerError(FilerErrorCodes.NOT_FOUND, `no svm ${show(svm)}`, 'svm');
  if (typeof p.name !== 'string' || !/^[A-Za-z0-9_.-]{1,256}$/.test(p.name)) throw invalid(`\`name\` must be 1-256 of [A-Za-z0-9_.-], got ${show(p.name)}`, 'name', 10027178);
  const paths = stringList(p.scan_paths, 'scan_paths');
  if (paths.length === 0) throw invalid('`scan_paths` must name at least one path', 'scan_paths', 10027168);
  const roots = paths.map((x) => unixRoot(runtime, svm, x, 'scan_paths', 10027168));
  const logPath = p.log_path === undefined ? undefined : unixRoot(runtime, svm, p.log_path, 'log_path', 10027176);
  const s = p.scope ?? {};
  const scope: Record<string, unknown> = {
    include_extensions: s.include_extensions ?? kOnDemandDefaults.include_extensions,
    max_file_size: s.max_file_size ?? kOnDemandDefaults.max_file_size,
    scan_without_extension: s.scan_without_extension ?? kOnDemandDefaults.scan_without_extension,
  };
  if (s.exclude_extensions !== undefined) scope.exclude_extensions = stringList(s.exclude_extensions, 'scope.exclude_extensions');
  if (s.exclude_paths !== undefined) {
    scope.exclude_paths = stringList(s.exclude_paths, 'scope.exclude_paths').map((x) => {
      if (!x.startsWith('/')) throw invalid(`\`scope.exclude_paths\` entries are UNIX paths from the SVM root, got ${show(x)}`, 'scope.exclude_paths', 10027174);
      return toPolicyPath(x);
    });
  }
  return { svm, name: p.name, kind: 'ontap', roots, policy: scopePolicy(scope), force: false, ...(logPath ? { logPath } : {}) };
}

/** `/ifs/<svm>/<volume>/<path>` → its volume and components (OneFS access zone = SVM). */
export function onefsPath(runtime: FilerRuntime, svm: string, raw: unknown, target: string): JobRoot {
  const parts = typeof raw === 'string' && raw.startsWith('/ifs/') ? pathComponents(raw) : [];
  if (parts[0] !== 'ifs' || parts[1] !== svm) throw invalid(`\`${target}\` must be a path under \`/ifs/${svm}/\`, got ${show(raw)}`, target);
  const volume = parts[2];
  if (volume === undefined || runtime.volume(svm, volume) === undefined) throw invalid(`\`${target}\` ${show(raw)} names no volume of zone ${show(svm)}`, target);
  return { volume, components: parts.slice(3) };
}

export function onefsJob(runtime: FilerRuntime, svm: string, j: OnefsJob): JobSpec {
  if (j === null || typeof j !== 'object') throw invalid(`a job must be an object, got ${show(j)}`, 'job');
  if (runtime.svm(svm) === undefined) throw new FilerError(FilerErrorCodes.NOT_FOUND, `no access zone ${show(svm)}`, 'svm');
  if (typeof j.job_name !== 'string' || j.job_name.length === 0 || j.job_name.length > 255) throw invalid(`\`job_name\` must be 1-255 characters, got ${show(j.job_name)}`, 'job_name');
  const include = stringList(j.paths_to_include, 'paths_to_include');
  if (include.length === 0) throw invalid('`paths_to_include` must name at least one path', 'paths_to_include');
  const roots = include.map((x) => onefsPath(runtime, svm, x, 'paths_to_include'));
  const excludes: string[] = [];
  for (const x of stringList(j.paths_to_exclude, 'paths_to_exclude')) {
    if (x.startsWith('/ifs/')) {
      const r = onefsPath(runtime, svm, x, 'paths_to_exclude');
      excludes.push(`\\${[r.volume, ...r.components].join('\\')}${x.endsWith('/') ? '\\' : ''}`);
    } else {
      const rel = pathComponents(x);
      for (const r of roots) excludes.push(`\\${[r.volume, ...r.components, ...rel].join('\\')}${x.endsWith('/') ? '\\' : ''}`);
    }
  }
  const action = j.file_extension_action ?? 'include';
  if (action !== 'include' && action !== 'exclude') throw invalid(`\`file_extension_action\` must be include or exclude, got ${show(action)}`, 'file_extension_action');
  const exts = extensions(stringList(j.file_extensions, 'file_extensions'));
  const scope: Record<string, unknown> = {
    include_extensions: action === 'include' && exts.length > 0 ? exts : ['*'],
    max_file_size: kNoSizeLimit,
    scan_without_extension: j.scan_if_no_extension ?? true,
  };
  if (action === 'exclude' && exts.length > 0) scope.exclude_extensions = exts;
  if (excludes.length > 0) scope.exclude_paths = excludes;
  if (j.ignore_previous_scan_status !== undefined && typeof j.ignore_previous_scan_status !== 'boolean') {
    throw invalid(`\`ignore_previous_scan_status\` must be a boolean, got ${show(j.ignore_previous_scan_status)}`, 'ignore_previous_scan_status');
  }
  return { svm, name: j.job_name, kind: 'onefs', roots, policy: scopePolicy(scope), force: j.ignore_previous_scan_status ?? false };
}

/**
 * An individual-file scan as a job of one file (OneFS `POST /antivirus/scan`, the CLI's `scan`):
 * `file` is `/ifs/<svm>/<volume>/<path>` or `{ volume, path }`. OneFS forces a rescan by default
 * (`ignore_previous_scan_status` true).
 */
export function fileJob(runtime: FilerRuntime, svm: string, file: string | { volume: string; path: string }, options: { force?: boolean; name?: string } = {}): JobSpec {
  if (runtime.svm(svm) === undefined) throw new FilerError(FilerErrorCodes.NOT_FOUND, `no svm ${show(svm)}`, 'svm');
  let root: JobRoot;
  if (typeof file === 'string') root = onefsPath(runtime, svm, file, 'file');
  else {
    if (runtime.volume(svm, file.volume) === undefined) throw invalid(`no volume ${show(file.volume)} in svm ${show(svm)}`, 'file.volume');
    root = { volume: file.volume, components: pathComponents(file.path) };
  }
  if (root.components.length === 0) throw invalid('`file` must name a file, not a volume', 'file');
  return {
    svm, name: options.name ?? 'MANUAL', kind: 'file', roots: [root],
    policy: scopePolicy({ include_extensions: ['*'], max_file_size: kNoSizeLimit, scan_without_extension: true }),
    force: options.force ?? true,
  };
}
