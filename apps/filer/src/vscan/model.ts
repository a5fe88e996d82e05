// One SVM's Vscan configuration as ONTAP holds it: Vscan on/off, scanner pools, on-access policies
// (the cluster-owned default_CIFS plus the SVM's own) and on-demand policies. Documents are kept as
// the client sent them (lists echoed exactly, absent lists stay absent); defaults are applied when a
// record is shown or a policy is compiled. Plain JSON, so it persists as is.
import type { PoolRole } from '@avscan/dispatch';
import type { ZoneFilterFlags } from './zone-filter.js';

export interface PoolDoc {
  name: string;
  servers: string[];
  privileged_users: string[];
  role?: PoolRole;
  cluster?: { name?: string; uuid?: string };
}

export interface OaScope {
  include_extensions?: string[];
  exclude_extensions?: string[];
  exclude_paths?: string[];
  max_file_size?: number;
  scan_without_extension?: boolean;
  scan_readonly_volumes?: boolean;
  only_execute_access?: boolean;
}

export interface OaPolicyDoc {
  name: string;
  enabled: boolean;
  mandatory?: boolean;
  protocol?: 'CIFS';
  scope?: OaScope;
}

export interface OdScope {
  include_extensions?: string[];
  exclude_extensions?: string[];
  exclude_paths?: string[];
  max_file_size?: number;
  scan_without_extension?: boolean;
}

export interface OdPolicyDoc {
  name: string;
  log_path: string;
  scan_paths: string[];
  schedule?: { name: string; uuid: string };
  scope?: OdScope;
}

export interface VscanDoc {
  enabled: boolean;
  /** default_CIFS is owned by the cluster; each SVM enables or disables it separately. */
  default_cifs_enabled: boolean;
  scanner_pools: PoolDoc[];
  on_access_policies: OaPolicyDoc[];
  on_demand_policies: OdPolicyDoc[];
  /**
   * Seconds the dispatcher waits for a scanner's answer (its `request_timeout`), when set through
   * OneFS `scan_timeout`; absent = the configuration's (or the dispatcher's default). ONTAP's REST
   * API does not show it.
   */
  request_timeout?: number;
  /**
   * The zone's OneFS CAVA filter triggers (`/platform/11/avscan/filters/{zone}`), when written through
   * OneFS; absent = the defaults (nothing masked). Combined with each share's profile by zone-filter.ts.
   * ONTAP's REST API does not show it.
   */
  onefs_filter?: ZoneFilterFlags;
}

export const kDefaultPolicyName = 'default_CIFS';

export const kOaScopeDefaults = Object.freeze({
  include_extensions: ['*'],
  max_file_size: 2147483648,
  scan_without_extension: true,
  scan_readonly_volumes: false,
  only_execute_access: false,
});

export const kOdScopeDefaults = Object.freeze({
  include_extensions: ['*'],
  max_file_size: 10737418240,
  scan_without_extension: true,
});

/** ONTAP's built-in job schedules an on-demand policy may name. */
export const kSchedules: Readonly<Record<string, string>> = Object.freeze({
  '5min': 'e8a3c2a4-0a4b-4d8c-9a3a-5f1d8e0b0001',
  '8hour': 'e8a3c2a4-0a4b-4d8c-9a3a-5f1d8e0b0002',
  daily: 'e8a3c2a4-0a4b-4d8c-9a3a-5f1d8e0b0003',
  hourly: 'e8a3c2a4-0a4b-4d8c-9a3a-5f1d8e0b0004',
  weekly: 'e8a3c2a4-0a4b-4d8c-9a3a-5f1d8e0b0005',
});

export function emptyVscan(): VscanDoc {
  return { enabled: false, default_cifs_enabled: true, scanner_pools: [], on_access_policies: [], on_demand_policies: [] };
}

export function roleOf(p: PoolDoc): PoolRole {
  return p.role ?? 'primary';
}

/** The SVM's enabled on-access policy as the engine compiles it (defaults filled in), or undefined. */
export function enabledPolicy(doc: VscanDoc): { name: string; enabled: true; mandatory: boolean; scope: Required<OaScope> } | undefined {
  if (doc.default_cifs_enabled) return { name: kDefaultPolicyName, enabled: true, mandatory: true, scope: { ...kOaScopeDefaults, exclude_extensions: [], exclude_paths: [] } };
  const p = doc.on_access_policies.find((x) => x.enabled);
  return p === undefined ? undefined : { name: p.name, enabled: true, mandatory: p.mandatory ?? true, scope: fullScope(p.scope) };
}

export function fullScope(s: OaScope | undefined): Required<OaScope> {
  return { exclude_extensions: [], exclude_paths: [], ...kOaScopeDefaults, ...s };
}

export function cloneVscan(doc: VscanDoc): VscanDoc {
  return structuredClone(doc);
}
