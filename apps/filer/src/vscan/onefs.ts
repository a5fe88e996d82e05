// OneFS writes as changes of the one ONTAP document (pure, on a copy, like ops.ts). A OneFS filter
// edits the zone's enabled on-access policy; the cluster-owned default_CIFS cannot be edited
// (10027033), so the first OneFS edit of a zone that runs default_CIFS copies its scope into the SVM's
// own policy `onefs_filter` and swaps which one is enabled, in one document change, so the zone never
// has zero or two enabled policies. OneFS servers are the pool `onefs_cava` of each zone.
import { OntapCodes, OntapError } from '../server/ontap-error.js';
import { cloneVscan, fullScope, kOaScopeDefaults, type OaPolicyDoc, type OaScope, type VscanDoc } from './model.js';
import type { SvmContext } from './ops.js';
import { checkOaScope, checkPool, kLimits } from './validate.js';

/** The SVM policy OneFS edits when the zone ran the cluster's default_CIFS. */
export const kOnefsPolicyName = 'onefs_filter';
/** The pool holding the servers created through OneFS. */
export const kOnefsPoolName = 'onefs_cava';
/** Privileged user of the OneFS pool (CAVA has none; ONTAP needs one). */
export const kOnefsPoolUser = 'ONEFS\\cava';

/**
 * `edit` changes the scope (and `mandatory`) of the zone's own enabled policy, made first when the
 * zone runs default_CIFS or no policy. Vscan on/off is left as it is.
 */
export function editOwnPolicy(doc: VscanDoc, ctx: SvmContext, edit: (p: OaPolicyDoc & { scope: OaScope }) => void): VscanDoc {
  const next = cloneVscan(doc);
  let p = next.default_cifs_enabled ? undefined : next.on_access_policies.find((x) => x.enabled);
  if (p === undefined) {
    // What OneFS showed was default_CIFS (or no policy): the edit starts from its scope, the
    // defaults, also when an older `onefs_filter` is reused.
    const fresh = (): OaPolicyDoc => ({ name: kOnefsPolicyName, enabled: false, mandatory: true, scope: { ...structuredClone(kOaScopeDefaults) } });
    const i = next.on_access_policies.findIndex((x) => x.name === kOnefsPolicyName);
    if (i === -1) {
      if (next.on_access_policies.length >= kLimits.oaPolicies) {
        throw new OntapError(409, OntapCodes.TOO_MANY_OA_POLICIES, `zone \`${ctx.svm}\` already has the maximum of ${kLimits.oaPolicies} on-access policies; the OneFS filter needs its own (\`${kOnefsPolicyName}\`)`, 'name');
      }
      p = fresh();
      next.on_access_policies.push(p);
    } else {
      p = fresh();
      next.on_access_policies[i] = p;
    }
    next.default_cifs_enabled = false;
    for (const x of next.on_access_policies) x.enabled = false;
    p.enabled = true;
  }
  const target = p as OaPolicyDoc & { scope: OaScope };
  target.scope = { ...fullScope(p.scope) };
  edit(target);
  checkOaScope(target.name, target.scope);
  return next;
}

/** The OneFS servers' pool of a zone set to `servers` (no pool when empty), ONTAP's pool rules applied. */
export function setOnefsPool(doc: VscanDoc, servers: readonly string[], ctx: SvmContext): VscanDoc {
  const next = cloneVscan(doc);
  const i = next.scanner_pools.findIndex((p) => p.name === kOnefsPoolName);
  if (servers.length === 0) {
    if (i !== -1) next.scanner_pools.splice(i, 1);
  } else {
    const pool = { name: kOnefsPoolName, servers: [...servers], privileged_users: [kOnefsPoolUser], role: 'primary' as const };
    checkPool(pool, ctx.labMode);
    if (i === -1) {
      if (next.scanner_pools.length >= kLimits.pools) throw new OntapError(409, OntapCodes.TOO_MANY_POOLS, `zone \`${ctx.svm}\` already has the maximum of ${kLimits.pools} scanner pools`, 'server_uri');
      next.scanner_pools.push(pool);
    } else next.scanner_pools[i] = pool;
  }
  if (doc.enabled && !next.scanner_pools.some((p) => (p.role ?? 'primary') !== 'idle')) {
    throw new OntapError(409, OntapCodes.LAST_ACTIVE_POOL, `the OneFS servers are the last active scanner pool of zone \`${ctx.svm}\`, where the service is enabled; disable it first`, 'enabled');
  }
  return next;
}
