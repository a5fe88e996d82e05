// OneFS CAVA filters (`/platform/11/avscan/filters[/{zone}]`): one per zone, a view of the zone's
// Vscan state and enabled on-access policy. PUT writes through to them:
//   filter_enabled        ↔ Vscan on/off of the zone (the same bit as settings.service_enabled)
//   open_on_fail          ↔ not `mandatory` (access allowed when no scan is possible)
//   file_extensions + file_extension_action ↔ include_extensions (include) or exclude_extensions with
//                           include `*` (exclude); paths_to_exclude (from the zone root, `vol1/tmp/`)
//                         ↔ exclude_paths (`\vol1\tmp\`); scan_if_no_extension ↔ scan_without_extension
// scan_profile and scan_on_read/close/rename have no ONTAP field: they are kept in the zone's own
// document (`onefs_filter`, beside the policies, so one PUT is one save and it survives restarts) and
// the data path applies them over each share's profile (src/vscan/zone-filter.ts). scan_cloudpool_files
// is kept there too and only shown (no CloudPools).
import type { ManagedRuntime } from '../runtime/managed.js';
import { badField } from '../server/ontap-error.js';
import { enabledPolicy, type OaScope, type VscanDoc } from '../vscan/model.js';
import { editOwnPolicy } from '../vscan/onefs.js';
import { setVscanEnabled, type SvmContext } from '../vscan/ops.js';
import { kZoneFilterDefaults, type ZoneFilterFlags } from '../vscan/zone-filter.js';
import { boolOf, listOf, objectOf, oneOf } from './onefs-body.js';

function flagsOf(doc: VscanDoc): ZoneFilterFlags {
  return { ...kZoneFilterDefaults, ...doc.onefs_filter };
}

/** A scope's extensions as OneFS shows them: the include list, or (include `*`) the exclude list. */
function extensionsOf(scope: OaScope | undefined): { list: string[]; action: 'include' | 'exclude' } {
  const include = scope?.include_extensions ?? ['*'];
  const exclude = scope?.exclude_extensions ?? [];
  return include.includes('*') ? { list: exclude, action: exclude.length > 0 ? 'exclude' : 'include' } : { list: include, action: 'include' };
}

export function filterView(rt: ManagedRuntime, zone: string, full: boolean): Record<string, unknown> {
  const doc = rt.vscan(zone);
  const p = enabledPolicy(doc);
  const scope = p?.scope;
  const ext = extensionsOf(scope);
  return {
    id: zone, zone_name: zone, filter_enabled: doc.enabled && p !== undefined, open_on_fail: p === undefined ? true : !p.mandatory,
    ...flagsOf(doc),
    ...(full ? {
      file_extensions: ext.list, file_extension_action: ext.action,
      paths_to_exclude: (scope?.exclude_paths ?? []).map((x) => x.replace(/\\/g, '/').replace(/^\//, '')),
      scan_if_no_extension: scope?.scan_without_extension ?? true,
    } : {}),
  };
}

/** `vol1/tmp/` (from the zone root; a leading `/` is allowed) → ONTAP's `\vol1\tmp\`. */
function policyPath(x: string): string {
  const rel = x.replace(/^\/+/, '');
  if (rel === '' || rel.includes('\\') || rel.split('/').some((c) => c === '..' || c === '.')) {
    throw badField(`\`paths_to_exclude\` entry \`${x.slice(0, 80)}\` must be a path from the zone root such as \`vol1/tmp/\``, 'paths_to_exclude');
  }
  return `\\${rel.replace(/\/+/g, '\\')}`;
}

const kFields = ['filter_enabled', 'open_on_fail', 'scan_profile', 'scan_on_read', 'scan_on_close', 'scan_on_rename', 'scan_cloudpool_files',
  'file_extensions', 'file_extension_action', 'paths_to_exclude', 'scan_if_no_extension'];

/** PUT /platform/11/avscan/filters/{zone}: absent fields stay as they are. */
export async function putFilter(rt: ManagedRuntime, zone: string, body: unknown): Promise<void> {
  const b = objectOf(body, kFields);
  const enabled = boolOf(b, 'filter_enabled');
  const openOnFail = boolOf(b, 'open_on_fail');
  const profile = oneOf(b, 'scan_profile', ['standard', 'strict'] as const);
  const flags: Partial<ZoneFilterFlags> = {
    ...(profile === undefined ? {} : { scan_profile: profile }),
    ...Object.fromEntries((['scan_on_read', 'scan_on_close', 'scan_on_rename', 'scan_cloudpool_files'] as const).flatMap((k) => {
      const v = boolOf(b, k);
      return v === undefined ? [] : [[k, v]];
    })),
  };
  const exts = listOf(b, 'file_extensions', 100)?.map((e) => e.replace(/^\*?\./, ''));
  const action = oneOf(b, 'file_extension_action', ['include', 'exclude'] as const);
  const paths = listOf(b, 'paths_to_exclude', 100)?.map(policyPath);
  const noExt = boolOf(b, 'scan_if_no_extension');
  const editsPolicy = openOnFail !== undefined || exts !== undefined || action !== undefined || paths !== undefined || noExt !== undefined;
  const change = (doc: VscanDoc, ctx: SvmContext): VscanDoc => {
    let d = doc;
    if (editsPolicy) {
      d = editOwnPolicy(d, ctx, (p) => {
        if (openOnFail !== undefined) p.mandatory = !openOnFail;
        if (exts !== undefined || action !== undefined) {
          const cur = extensionsOf(p.scope);
          const list = exts ?? cur.list;
          if ((action ?? cur.action) === 'include') {
            p.scope.include_extensions = list.length > 0 ? list : ['*'];
            p.scope.exclude_extensions = [];
          } else {
            p.scope.include_extensions = ['*'];
            p.scope.exclude_extensions = list;
          }
        }
        if (paths !== undefined) p.scope.exclude_paths = paths;
        if (noExt !== undefined) p.scope.scan_without_extension = noExt;
      });
    }
    if (enabled !== undefined && d.enabled !== enabled) d = setVscanEnabled(d, enabled, ctx);
    // Stored whole (defaults filled in), so what GET shows is what the data path applies.
    if (Object.keys(flags).length > 0) d = { ...d, onefs_filter: { ...flagsOf(d), ...flags } };
    return d;
  };
  if (editsPolicy || enabled !== undefined || Object.keys(flags).length > 0) await rt.mutate(zone, change);
}
