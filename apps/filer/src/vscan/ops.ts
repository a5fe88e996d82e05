// ONTAP's Vscan semantics as pure functions on a copy of an SVM's VscanDoc: each either throws an
// OntapError (nothing changes) or returns the new document, sometimes with an error to report after
// saving it (ONTAP saves a policy created enabled while another is enabled, then answers 10027249).
import { OntapCodes, OntapError, badField, notFound } from '../server/ontap-error.js';
import {
  cloneVscan, kDefaultPolicyName, kSchedules, roleOf,
  type OaPolicyDoc, type OaScope, type OdPolicyDoc, type OdScope, type PoolDoc, type VscanDoc,
} from './model.js';
import { checkName, checkOaScope, checkOdScope, checkPool, kLimits } from './validate.js';

export interface SvmContext {
  readonly svm: string;
  readonly cifsServer: boolean;
  readonly labMode: boolean;
  /** Whether a UNIX path from the SVM root (`/vol1/dir`) names an existing folder. */
  readonly dirExists: (unixPath: string) => boolean;
}

export interface Outcome {
  readonly doc: VscanDoc;
  /** Reported after the document is saved. */
  readonly error?: OntapError;
}

const conflict = (code: string, message: string, target?: string): OntapError => new OntapError(409, code, message, target);

const hasActivePool = (d: VscanDoc): boolean => d.scanner_pools.some((p) => roleOf(p) !== 'idle');
const hasEnabledPolicy = (d: VscanDoc): boolean => d.default_cifs_enabled || d.on_access_policies.some((p) => p.enabled);
const enabledName = (d: VscanDoc): string | undefined => (d.default_cifs_enabled ? kDefaultPolicyName : d.on_access_policies.find((p) => p.enabled)?.name);

// --- Vscan on/off --------------------------------------------------------------------------------

export function setVscanEnabled(doc: VscanDoc, enabled: boolean, ctx: SvmContext): VscanDoc {
  if (enabled) {
    if (doc.enabled) throw conflict(OntapCodes.ALREADY_ENABLED, `Vscan is already enabled on SVM \`${ctx.svm}\``, 'enabled');
    if (!ctx.cifsServer) throw conflict(OntapCodes.NO_CIFS_SERVER, `SVM \`${ctx.svm}\` has no CIFS server; Vscan needs one`, 'enabled');
    if (!hasActivePool(doc)) throw conflict(OntapCodes.NO_ACTIVE_POOL, `SVM \`${ctx.svm}\` has no active scanner pool`, 'enabled');
    if (!hasEnabledPolicy(doc)) throw conflict(OntapCodes.NO_ENABLED_POLICY, `SVM \`${ctx.svm}\` has no enabled on-access policy`, 'enabled');
  } else if (!doc.enabled) {
    throw conflict(OntapCodes.ALREADY_DISABLED, `Vscan is already disabled on SVM \`${ctx.svm}\``, 'enabled');
  }
  const next = cloneVscan(doc);
  next.enabled = enabled;
  return next;
}

/** DELETE /protocols/vscan/{svm.uuid}: Vscan off, then every pool and SVM policy gone. */
export function deleteVscan(doc: VscanDoc, ctx: SvmContext): VscanDoc {
  const on = doc.on_access_policies.find((p) => p.enabled);
  if (on !== undefined) {
    throw conflict(OntapCodes.CHILD_FAILED, `cannot delete the Vscan configuration of SVM \`${ctx.svm}\`: policy \`${on.name}\` must be disabled before being deleted`, 'on_access_policies');
  }
  return { ...cloneVscan(doc), enabled: false, scanner_pools: [], on_access_policies: [], on_demand_policies: [] };
}

// --- scanner pools --------------------------------------------------------------------------------

export function createPool(doc: VscanDoc, pool: PoolDoc, ctx: SvmContext): VscanDoc {
  if (doc.scanner_pools.some((p) => p.name === pool.name)) throw conflict(OntapCodes.DUPLICATE, `scanner pool \`${pool.name}\` already exists`, 'name');
  if (doc.scanner_pools.length >= kLimits.pools) throw conflict(OntapCodes.TOO_MANY_POOLS, `SVM \`${ctx.svm}\` already has the maximum of ${kLimits.pools} scanner pools`, 'name');
  checkPool(pool, ctx.labMode);
  const next = cloneVscan(doc);
  next.scanner_pools.push(structuredClone(pool));
  return next;
}

export function modifyPool(doc: VscanDoc, name: string, patch: Partial<Omit<PoolDoc, 'name'>>, ctx: SvmContext): VscanDoc {
  const i = doc.scanner_pools.findIndex((p) => p.name === name);
  if (i === -1) throw notFound(`no scanner pool \`${name}\` on SVM \`${ctx.svm}\``, 'name');
  const merged: PoolDoc = { ...doc.scanner_pools[i]!, ...structuredClone(patch) };
  checkPool(merged, ctx.labMode);
  const next = cloneVscan(doc);
  next.scanner_pools[i] = merged;
  if (doc.enabled && !hasActivePool(next)) {
    throw conflict(OntapCodes.LAST_ACTIVE_POOL, `pool \`${name}\` is the last active scanner pool of SVM \`${ctx.svm}\`, where Vscan is enabled`, 'role');
  }
  return next;
}

export function deletePool(doc: VscanDoc, name: string, ctx: SvmContext): VscanDoc {
  const i = doc.scanner_pools.findIndex((p) => p.name === name);
  if (i === -1) throw notFound(`no scanner pool \`${name}\` on SVM \`${ctx.svm}\``, 'name');
  const next = cloneVscan(doc);
  next.scanner_pools.splice(i, 1);
  if (doc.enabled && hasActivePool(doc) && !hasActivePool(next)) {
    throw conflict(OntapCodes.LAST_ACTIVE_POOL, `pool \`${name}\` is the last active scanner pool of SVM \`${ctx.svm}\`, where Vscan is enabled; disable Vscan first`, 'name');
  }
  return next;
}

// --- on-access policies ---------------------------------------------------------------------------

export interface OaInput {
  name: string;
  enabled?: boolean;
  mandatory?: boolean;
  protocol?: 'CIFS';
  scope?: OaScope;
}

/** POST: `enabled` defaults to true (false for policies created inside POST /protocols/vscan). */
export function createOaPolicy(doc: VscanDoc, input: OaInput, ctx: SvmContext, enabledDefault = true): Outcome {
  checkName(input.name);
  if (input.name === kDefaultPolicyName || doc.on_access_policies.some((p) => p.name === input.name)) {
    throw conflict(OntapCodes.DUPLICATE, `on-access policy \`${input.name}\` already exists`, 'name');
  }
  if (doc.on_access_policies.length >= kLimits.oaPolicies) {
    throw conflict(OntapCodes.TOO_MANY_OA_POLICIES, `SVM \`${ctx.svm}\` already has the maximum of ${kLimits.oaPolicies} on-access policies`, 'name');
  }
  checkOaScope(input.name, input.scope);
  const wantEnabled = input.enabled ?? enabledDefault;
  const other = enabledName(doc);
  const next = cloneVscan(doc);
  const saved: OaPolicyDoc = { ...structuredClone(input), enabled: wantEnabled && other === undefined };
  next.on_access_policies.push(saved);
  if (wantEnabled && other !== undefined) {
    return {
      doc: next,
      error: conflict(OntapCodes.OTHER_POLICY_ENABLED, `on-access policy \`${input.name}\` was created but not enabled: policy \`${other}\` is enabled on SVM \`${ctx.svm}\`; disable it first`, 'enabled'),
    };
  }
  return { doc: next };
}

export function modifyOaPolicy(doc: VscanDoc, name: string, patch: Omit<OaInput, 'name'>, ctx: SvmContext): Outcome {
  const others = Object.keys(patch).filter((k) => k !== 'enabled');
  const next = cloneVscan(doc);
  if (name === kDefaultPolicyName) {
    if (others.length > 0) {
      throw new OntapError(400, OntapCodes.CLUSTER_POLICY_SCOPE, `policy \`${kDefaultPolicyName}\` is owned by the cluster: only enabling or disabling it is allowed`, others[0]);
    }
    if (patch.enabled === undefined || patch.enabled === doc.default_cifs_enabled) return { doc: next };
    return toggle(next, kDefaultPolicyName, patch.enabled, false, ctx);
  }
  const i = next.on_access_policies.findIndex((p) => p.name === name);
  if (i === -1) throw notFound(`no on-access policy \`${name}\` on SVM \`${ctx.svm}\``, 'name');
  const cur = next.on_access_policies[i]!;
  // Lists replace whole lists; scalars replace scalars; the scope merges field by field.
  const scope = patch.scope === undefined ? cur.scope : { ...cur.scope, ...structuredClone(patch.scope) };
  checkOaScope(name, scope);
  const updated: OaPolicyDoc = { ...cur, ...(patch.mandatory === undefined ? {} : { mandatory: patch.mandatory }), ...(patch.protocol === undefined ? {} : { protocol: patch.protocol }), ...(scope === undefined ? {} : { scope }) };
  next.on_access_policies[i] = updated;
  if (patch.enabled === undefined || patch.enabled === cur.enabled) return { doc: next };
  return toggle(next, name, patch.enabled, others.length > 0, ctx);
}

function toggle(next: VscanDoc, name: string, enabled: boolean, savedOther: boolean, ctx: SvmContext): Outcome {
  const code = savedOther ? OntapCodes.OTHER_POLICY_ENABLED : OntapCodes.ENABLE_FAILED;
  const prefix = savedOther ? `on-access policy \`${name}\` was modified but` : `on-access policy \`${name}\``;
  const fail = (why: string): Outcome => {
    if (!savedOther) throw conflict(code, `${prefix} ${why}`, 'enabled');
    return { doc: next, error: conflict(code, `${prefix} ${why}`, 'enabled') };
  };
  if (enabled) {
    const other = enabledName(next);
    if (other !== undefined && other !== name) return fail(`could not be enabled: policy \`${other}\` is enabled on SVM \`${ctx.svm}\`; disable it first`);
  } else if (next.enabled) {
    return fail(`could not be disabled: Vscan is enabled on SVM \`${ctx.svm}\`, which needs an enabled policy; disable Vscan first`);
  }
  if (name === kDefaultPolicyName) next.default_cifs_enabled = enabled;
  else next.on_access_policies.find((p) => p.name === name)!.enabled = enabled;
  return { doc: next };
}

export function deleteOaPolicy(doc: VscanDoc, name: string, ctx: SvmContext): VscanDoc {
  if (name === kDefaultPolicyName) throw new OntapError(403, OntapCodes.CLUSTER_POLICY_DELETE, `policy \`${kDefaultPolicyName}\` is owned by the cluster and cannot be deleted`, 'name');
  const i = doc.on_access_policies.findIndex((p) => p.name === name);
  if (i === -1) throw notFound(`no on-access policy \`${name}\` on SVM \`${ctx.svm}\``, 'name');
  if (doc.on_access_policies[i]!.enabled) throw conflict(OntapCodes.ENABLED_POLICY_DELETE, `on-access policy \`${name}\` is enabled; disable it before deleting it`, 'name');
  const next = cloneVscan(doc);
  next.on_access_policies.splice(i, 1);
  return next;
}

// --- on-demand policies ---------------------------------------------------------------------------

export interface OdInput {
  name?: string;
  log_path?: string;
  scan_paths?: string[];
  schedule?: { name?: string; uuid?: string };
  scope?: OdScope;
}

function checkOd(doc: VscanDoc, p: OdInput & { name: string }, ctx: SvmContext): OdPolicyDoc {
  if (p.log_path === undefined) throw badField('`log_path` is required', 'log_path');
  if (p.scan_paths === undefined) throw badField('`scan_paths` is required', 'scan_paths');
  if (p.scan_paths.length === 0) throw new OntapError(400, OntapCodes.EMPTY_LIST, 'the scan paths list cannot be empty', 'scan_paths');
  for (const s of p.scan_paths) {
    if (!s.startsWith('/') || s.includes('\\') || !ctx.dirExists(s)) {
      throw new OntapError(400, OntapCodes.OD_SCAN_PATH, `scan path \`${s.slice(0, 80)}\` does not exist on SVM \`${ctx.svm}\` or is not in UNIX form (\`/vol1/dir\`)`, 'scan_paths');
    }
  }
  if (!p.log_path.startsWith('/') || p.log_path.includes('\\') || !ctx.dirExists(p.log_path)) {
    throw new OntapError(400, OntapCodes.OD_LOG_PATH, `log path \`${p.log_path.slice(0, 80)}\` does not exist on SVM \`${ctx.svm}\` or is not in UNIX form`, 'log_path');
  }
  checkOdScope(p.scope);
  let schedule: OdPolicyDoc['schedule'];
  if (p.schedule !== undefined) {
    if (!doc.enabled) throw new OntapError(409, '10027164', `a schedule needs Vscan enabled on SVM \`${ctx.svm}\``, 'schedule');
    const byName = p.schedule.name !== undefined ? kSchedules[p.schedule.name] : undefined;
    const name = p.schedule.name ?? Object.keys(kSchedules).find((k) => kSchedules[k] === p.schedule!.uuid);
    if (name === undefined || (p.schedule.name !== undefined && byName === undefined) || (p.schedule.uuid !== undefined && kSchedules[name] !== p.schedule.uuid)) {
      throw new OntapError(404, '10027167', `no schedule \`${p.schedule.name ?? p.schedule.uuid ?? ''}\``, 'schedule');
    }
    const taken = doc.on_demand_policies.find((o) => o.schedule !== undefined && o.name !== p.name);
    if (taken !== undefined) throw new OntapError(409, '10027255', `policy \`${taken.name}\` is already scheduled on SVM \`${ctx.svm}\`; one scheduled policy per SVM`, 'schedule');
    schedule = { name, uuid: kSchedules[name]! };
  }
  return { name: p.name, log_path: p.log_path, scan_paths: [...p.scan_paths], ...(schedule ? { schedule } : {}), ...(p.scope ? { scope: structuredClone(p.scope) } : {}) };
}

export function createOdPolicy(doc: VscanDoc, input: OdInput, ctx: SvmContext): VscanDoc {
  if (input.name === undefined) throw badField('`name` is required', 'name');
  checkName(input.name, 'name', OntapCodes.OD_BAD_NAME);
  if (doc.on_demand_policies.some((p) => p.name === input.name)) throw conflict(OntapCodes.DUPLICATE, `on-demand policy \`${input.name}\` already exists`, 'name');
  if (doc.on_demand_policies.length >= kLimits.odPolicies) {
    throw conflict(OntapCodes.TOO_MANY_OD_POLICIES, `SVM \`${ctx.svm}\` already has the maximum of ${kLimits.odPolicies} on-demand policies`, 'name');
  }
  const next = cloneVscan(doc);
  next.on_demand_policies.push(checkOd(doc, { ...input, name: input.name }, ctx));
  return next;
}

export function modifyOdPolicy(doc: VscanDoc, name: string, patch: Omit<OdInput, 'name'>, ctx: SvmContext): VscanDoc {
  const i = doc.on_demand_policies.findIndex((p) => p.name === name);
  if (i === -1) throw notFound(`no on-demand policy \`${name}\` on SVM \`${ctx.svm}\``, 'name');
  const cur = doc.on_demand_policies[i]!;
  const scope = patch.scope === undefined ? cur.scope : { ...cur.scope, ...patch.scope };
  const next = cloneVscan(doc);
  next.on_demand_policies[i] = checkOd(doc, { ...cur, ...patch, name, ...(scope ? { scope } : {}) }, ctx);
  return next;
}

export function deleteOdPolicy(doc: VscanDoc, name: string, ctx: SvmContext): VscanDoc {
  const i = doc.on_demand_policies.findIndex((p) => p.name === name);
  if (i === -1) throw notFound(`no on-demand policy \`${name}\` on SVM \`${ctx.svm}\``, 'name');
  const next = cloneVscan(doc);
  next.on_demand_policies.splice(i, 1);
  return next;
}

/**
 * An SVM's first Vscan configuration from the configuration file, built with the same rules as the
 * API: pools, policies (each enabled as given, default_CIFS as `default_cifs_enabled` says), on-demand
 * policies, then Vscan on/off with its prerequisites.
 */
export function seedVscan(seed: Partial<VscanDoc>, ctx: SvmContext): VscanDoc {
  let d: VscanDoc = { enabled: false, default_cifs_enabled: seed.default_cifs_enabled ?? true, scanner_pools: [], on_access_policies: [], on_demand_policies: [] };
  for (const p of seed.scanner_pools ?? []) d = createPool(d, p, ctx);
  for (const p of seed.on_access_policies ?? []) {
    const o = createOaPolicy(d, p, ctx);
    if (o.error !== undefined) throw o.error;
    d = o.doc;
  }
  for (const p of seed.on_demand_policies ?? []) d = createOdPolicy(d, p, ctx);
  const enabled = seed.enabled ?? d.scanner_pools.length > 0;
  return enabled ? setVscanEnabled(d, true, ctx) : d;
}
