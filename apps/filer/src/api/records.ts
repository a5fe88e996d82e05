// ONTAP JSON shapes of the Vscan resources, built from an SVM's VscanDoc: defaults shown, lists that
// were never set left out, `_links.self` on every record.
import type { SvmModel } from '../model.js';
import {
  fullScope, kDefaultPolicyName, kOaScopeDefaults, kOdScopeDefaults,
  type OaPolicyDoc, type OdPolicyDoc, type PoolDoc, type VscanDoc,
} from '../vscan/model.js';
import { fieldsOf, type FieldSet } from './query.js';

export type Rec = Record<string, unknown>;

export const kApi = '/api/protocols/vscan';
const self = (href: string): Rec => ({ self: { href } });
export const svmRef = (svm: SvmModel): Rec => ({ uuid: svm.uuid, name: svm.name, _links: self(`/api/svm/svms/${svm.uuid}`) });
const enc = encodeURIComponent;

export function poolRecord(svm: SvmModel, p: PoolDoc): Rec {
  return {
    svm: svmRef(svm), name: p.name, servers: p.servers, privileged_users: p.privileged_users,
    ...(p.role === undefined ? {} : { role: p.role }),
    ...(p.cluster === undefined ? {} : { cluster: p.cluster }),
    _links: self(`${kApi}/${svm.uuid}/scanner-pools/${enc(p.name)}`),
  };
}

export function oaRecord(svm: SvmModel, p: OaPolicyDoc | 'default', defaultEnabled = true): Rec {
  if (p === 'default') {
    return {
      svm: svmRef(svm), name: kDefaultPolicyName, enabled: defaultEnabled, mandatory: true,
      scope: { ...kOaScopeDefaults, include_extensions: [...kOaScopeDefaults.include_extensions] },
      protocol: 'CIFS', owner: 'cluster', _links: self(`${kApi}/${svm.uuid}/on-access-policies/${kDefaultPolicyName}`),
    };
  }
  return {
    svm: svmRef(svm), name: p.name, enabled: p.enabled, mandatory: p.mandatory ?? true,
    scope: { ...kOaScopeDefaults, include_extensions: [...kOaScopeDefaults.include_extensions], ...p.scope },
    protocol: p.protocol ?? 'CIFS', owner: 'vserver', _links: self(`${kApi}/${svm.uuid}/on-access-policies/${enc(p.name)}`),
  };
}

export function odRecord(svm: SvmModel, p: OdPolicyDoc): Rec {
  return {
    svm: svmRef(svm), name: p.name, log_path: p.log_path, scan_paths: p.scan_paths,
    ...(p.schedule === undefined ? {} : { schedule: p.schedule }),
    scope: { ...kOdScopeDefaults, include_extensions: [...kOdScopeDefaults.include_extensions], ...p.scope },
    _links: self(`${kApi}/${svm.uuid}/on-demand-policies/${enc(p.name)}`),
  };
}

export function oaRecords(svm: SvmModel, doc: VscanDoc): Rec[] {
  return [oaRecord(svm, 'default', doc.default_cifs_enabled), ...doc.on_access_policies.map((p) => oaRecord(svm, p))];
}

/** Nested items of the vscan record: no `svm`, but ONTAP's undocumented `vsName` (Harvest reads it). */
const nested = (svm: SvmModel, r: Rec): Rec => {
  const { svm: _svm, ...rest } = r;
  void _svm;
  return { ...rest, vsName: svm.name };
};

export function vscanRecord(svm: SvmModel, doc: VscanDoc): Rec {
  return {
    svm: svmRef(svm), enabled: doc.enabled,
    scanner_pools: doc.scanner_pools.map((p) => nested(svm, poolRecord(svm, p))),
    on_access_policies: oaRecords(svm, doc).map((r) => nested(svm, r)),
    on_demand_policies: doc.on_demand_policies.map((p) => nested(svm, odRecord(svm, p))),
    _links: self(`${kApi}/${svm.uuid}`),
  };
}

// Field sets, derived from a record with every optional field present.
const sampleSvm: SvmModel = { name: 's', uuid: 'u', cifsServer: true };
const fullScopeSample = fullScope({});
export const kPoolFields: FieldSet = {
  all: fieldsOf(poolRecord(sampleSvm, { name: 'p', servers: [], privileged_users: [], role: 'primary', cluster: { name: 'c', uuid: 'u' } })),
  keys: ['svm.uuid', 'svm.name', 'name'],
};
export const kOaFields: FieldSet = {
  all: fieldsOf(oaRecord(sampleSvm, { name: 'p', enabled: true, scope: fullScopeSample })),
  keys: ['svm.uuid', 'svm.name', 'name'],
};
export const kOdFields: FieldSet = {
  all: fieldsOf(odRecord(sampleSvm, { name: 'p', log_path: '/', scan_paths: [], schedule: { name: 'n', uuid: 'u' }, scope: { ...kOdScopeDefaults, exclude_extensions: [], exclude_paths: [] } })),
  keys: ['svm.uuid', 'svm.name', 'name'],
};
export const kVscanFields: FieldSet = {
  all: [...fieldsOf(vscanRecord(sampleSvm, { enabled: true, default_cifs_enabled: true, scanner_pools: [], on_access_policies: [], on_demand_policies: [] }))],
  keys: ['svm.uuid', 'svm.name'],
};
