// Readable tables for the CLI (cli-table3), one function per command, each from the JSON the REST API
// answers (ONTAP shapes, ONTAP-API.md §1). Pure: JSON in, text out, so they are tested without a server.
// Fields a record lacks print as `-`; no colours, so output pipes and diffs cleanly.
import Table from 'cli-table3';

type Json = any;

export function table(head: string[]): Table.Table {
  return new Table({ head, style: { head: [], border: [], compact: true }, wordWrap: true });
}

/** First defined value among the keys (dotted paths allowed), for fields other builds name differently. */
function pick(o: Json, ...keys: string[]): unknown {
  for (const k of keys) {
    let v: Json = o;
    for (const part of k.split('.')) v = v === null || v === undefined ? undefined : v[part];
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}

export function cell(v: unknown): string {
  if (v === undefined || v === null || v === '') return '-';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v)) return v.length === 0 ? '-' : v.map(cell).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function bytes(n: unknown): string {
  if (typeof n !== 'number' || !Number.isFinite(n)) return cell(n);
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1 && v % 1024 === 0) {
    v /= 1024;
    i++;
  }
  return `${v} ${units[i]}`;
}

/** Epoch ms or s, or an ISO string, as `YYYY-MM-DD HH:MM:SS` UTC. */
export function when(t: unknown): string {
  if (t === undefined || t === null) return '-';
  let d: Date;
  if (typeof t === 'number') d = new Date(t < 1e12 ? t * 1000 : t);
  else d = new Date(String(t));
  return Number.isNaN(d.getTime()) ? String(t) : d.toISOString().replace('T', ' ').slice(0, 19);
}

export function renderStatus(cluster: Json, vscan: Json[], servers: Json[]): string {
  const v = cluster?.version;
  const head = `Cluster ${cell(cluster?.name)} — ONTAP ${cell(v?.full ?? (v ? `${v.generation}.${v.major}.${v.minor}` : undefined))}`;
  const t = table(['SVM', 'Vscan', 'Enabled on-access policy', 'Active pools', 'Servers connected']);
  for (const r of vscan) {
    const svm = cell(pick(r, 'svm.name'));
    const policies = (r.on_access_policies ?? []) as Json[];
    const pools = (r.scanner_pools ?? []) as Json[];
    const mine = servers.filter((s) => pick(s, 'svm.name') === pick(r, 'svm.name'));
    t.push([
      svm, r.enabled === true ? 'enabled' : 'disabled',
      cell(policies.filter((p) => p.enabled === true).map((p) => p.name)),
      cell(pools.filter((p) => p.role === undefined || p.role === 'primary' || p.role === 'secondary').map((p) => (p.role ? `${p.name} (${p.role})` : p.name))),
      `${mine.filter((s) => s.state === 'connected').length}/${mine.length}`,
    ]);
  }
  return `${head}\n${t.toString()}`;
}

export function renderServers(records: Json[]): string {
  const t = table(['SVM', 'Server', 'State', 'Type', 'Node', 'Vendor', 'Version', 'Updated', 'Disconnected reason']);
  for (const r of records) {
    // The address with its port (`server`): two servers on one host differ only there; ONTAP's `ip` alone when absent.
    t.push([cell(pick(r, 'svm.name')), cell(r.server ?? r.ip), cell(r.state), cell(r.type), cell(pick(r, 'node.name')), cell(r.vendor), cell(r.version), when(r.update_time), cell(r.disconnected_reason)]);
  }
  return t.toString();
}

export function renderPolicies(records: Json[]): string {
  const t = table(['SVM', 'Policy', 'Owner', 'Enabled', 'Mandatory', 'Max size', 'Include ext', 'Exclude ext', 'Exclude paths', 'Filters']);
  for (const r of records) {
    const s = r.scope ?? {};
    const filters = [s.scan_readonly_volumes === true ? 'scan-ro-volume' : undefined, s.only_execute_access === true ? 'scan-execute-access' : undefined].filter(Boolean);
    t.push([
      cell(pick(r, 'svm.name')), cell(r.name), cell(r.owner), cell(r.enabled), cell(r.mandatory), bytes(s.max_file_size),
      cell(s.include_extensions), cell(s.exclude_extensions), cell(s.exclude_paths), cell(filters),
    ]);
  }
  return t.toString();
}

export function renderPools(records: Json[]): string {
  const t = table(['SVM', 'Pool', 'Role', 'Servers', 'Privileged users', 'Cluster']);
  for (const r of records) {
    t.push([cell(pick(r, 'svm.name')), cell(r.name), cell(r.role), cell(r.servers), cell(r.privileged_users), cell(pick(r, 'cluster.name'))]);
  }
  return t.toString();
}

/** Events as the store records them (type, file path, server, reason, details), in either naming. */
export function renderEvents(records: Json[]): string {
  const t = table(['Time', 'SVM', 'Event', 'File', 'Server', 'Detail']);
  for (const r of records) t.push(eventRow(r));
  return t.toString();
}

export function eventRow(r: Json): string[] {
  const details = pick(r, 'details');
  const threats = pick(r, 'details.threats');
  const detail = pick(r, 'reason', 'message') ?? (threats !== undefined ? `${cell(threats)} (${cell(pick(r, 'details.response'))})` : details);
  return [when(pick(r, 'time', 'timestamp', 'event_time')), cell(pick(r, 'svm.name', 'svm')), cell(pick(r, 'type', 'name')), cell(pick(r, 'file_path', 'filePath', 'path')), cell(pick(r, 'server', 'server.ip')), cell(detail)];
}

/** One line per event for `events --follow`. */
export function eventLine(r: Json): string {
  return eventRow(r).join('  ');
}

export function renderExplain(r: Json): string {
  const d = pick(r, 'decision') ?? r;
  const lines = [
    `${cell(r.path ?? pick(r, 'access.path'))}: ${String(cell(pick(d, 'action'))).toUpperCase()} (${cell(pick(d, 'reason'))}${pick(d, 'rule') !== undefined ? `, rule ${cell(pick(d, 'rule'))}` : ''})`,
  ];
  const policy = pick(r, 'policy.name', 'policy_name');
  if (policy !== undefined) lines.push(`policy ${cell(policy)}${pick(r, 'policy_revision', 'policy.revision') !== undefined ? ` revision ${cell(pick(r, 'policy_revision', 'policy.revision'))}` : ''}`);
  for (const [label, keys] of [['trigger', ['trigger']], ['scan status', ['lookup', 'scan_status']], ['would scan', ['would_scan', 'wouldScan']]] as const) {
    const v = pick(r, ...keys);
    if (v !== undefined) lines.push(`${label}: ${cell(v)}`);
  }
  const steps = (pick(r, 'steps', 'rules', 'decision.steps', 'policy.steps') as Json[] | undefined) ?? [];
  const t = table(['#', 'Rule', 'Said', 'Decided']);
  steps.forEach((s, i) => t.push([String(i + 1), cell(s.rule), cell(s.said), s.decided === true ? '<=' : '']));
  return `${lines.join('\n')}\n${t.toString()}`;
}

export function renderFile(r: Json): string {
  const t = table(['Field', 'Value']);
  const rows: Array<[string, unknown]> = [
    ['path', pick(r, 'path', 'file')], ['scan status', pick(r, 'scan_status')], ['scan result', pick(r, 'scan_result')],
    ['scanned', pick(r, 'scan_time', 'last_scan') !== undefined ? when(pick(r, 'scan_time', 'last_scan')) : undefined],
    ['signature stamp', pick(r, 'signature_timestamp', 'sig_timestamp', 'last_istag')], ['threats', pick(r, 'threats')],
    ['quarantined', pick(r, 'quarantined')],
  ];
  for (const [k, v] of rows) t.push([k, cell(v)]);
  return t.toString();
}

// --- data path ---------------------------------------------------------------------------------------

export function renderAnswer(op: string, a: Json): string {
  const v = a.verdict;
  const detail = v?.result === 'infected' ? ` [${cell(v.threats)}]` : v?.result === 'failure' ? ` [${cell(v.kind)}: ${cell(v.message)}]` : '';
  const rule = a.rule !== undefined ? ` (rule ${a.rule})` : '';
  const from = a.from !== undefined ? ` (from ${a.from})` : '';
  return `${op} ${a.path}${from}: ${a.allow === true ? 'ALLOWED' : 'DENIED'} — ${a.reason}${rule}${detail}  decision ${a.decision_id ?? '-'}`;
}

export function renderDenied(op: string, path: string, err: { code: string; message: string; reason?: string | undefined }): string {
  return `${op} ${path}: DENIED — ${err.reason ?? err.code}  (${err.message})`;
}

export function renderList(r: Json): string {
  const t = table(['Name', 'Type', 'Size', 'Modified']);
  for (const e of (r.records ?? []) as Json[]) t.push([cell(e.name) + (e.type === 'directory' ? '\\' : ''), cell(e.type), e.type === 'file' ? String(e.size) : '', when(e.modified)]);
  return `${cell(r.path)} — ${cell(r.num_records)} entries\n${t.toString()}`;
}
