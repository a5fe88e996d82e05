// The OneFS writes as pure changes of an SVM's ONTAP document (src/vscan/onefs.ts): the zone's own
// policy replaces default_CIFS in one change, an enabled SVM policy is edited in place, ONTAP's limits
// answer with ONTAP's codes, and the OneFS pool follows its servers.
import { describe, expect, it } from 'vitest';
import { OntapCodes } from '../src/server/ontap-error.js';
import { emptyVscan, enabledPolicy, type VscanDoc } from '../src/vscan/model.js';
import { editOwnPolicy, kOnefsPolicyName, kOnefsPoolName, setOnefsPool } from '../src/vscan/onefs.js';
import type { SvmContext } from '../src/vscan/ops.js';

const ctx: SvmContext = { svm: 'vs1', cifsServer: true, labMode: true, dirExists: () => true };
const running = (over: Partial<VscanDoc> = {}): VscanDoc => ({
  ...emptyVscan(), enabled: true, scanner_pools: [{ name: 'p1', servers: ['10.0.0.5'], privileged_users: ['LAB\\av'] }], ...over,
});

describe('editOwnPolicy', () => {
  it('from default_CIFS: a copy of its scope, enabled in its place, in the same document; the input is untouched', () => {
    const doc = running();
    const next = editOwnPolicy(doc, ctx, (p) => { p.scope.max_file_size = 4096; });
    expect(doc.default_cifs_enabled).toBe(true);
    expect(next.default_cifs_enabled).toBe(false);
    expect(enabledPolicy(next)).toMatchObject({ name: kOnefsPolicyName, mandatory: true, scope: { max_file_size: 4096, include_extensions: ['*'], scan_without_extension: true } });
    expect(next.enabled).toBe(true);
  });

  it('an enabled SVM policy is edited in place; a stale onefs_filter is reset to default_CIFS\'s scope when reused', () => {
    const own = running({ default_cifs_enabled: false, on_access_policies: [{ name: 'office', enabled: true, scope: { exclude_extensions: ['tmp'] } }] });
    const edited = editOwnPolicy(own, ctx, (p) => { p.mandatory = false; });
    expect(enabledPolicy(edited)).toMatchObject({ name: 'office', mandatory: false, scope: { exclude_extensions: ['tmp'] } });
    const stale = running({ on_access_policies: [{ name: kOnefsPolicyName, enabled: false, scope: { exclude_extensions: ['old'], max_file_size: 2048 } }] });
    const reused = editOwnPolicy(stale, ctx, (p) => { p.scope.scan_without_extension = false; });
    expect(reused.on_access_policies).toHaveLength(1);
    expect(enabledPolicy(reused)).toMatchObject({ name: kOnefsPolicyName, scope: { exclude_extensions: [], max_file_size: 2147483648, scan_without_extension: false } });
  });

  it('ONTAP\'s limits: ten policies (10027043), the scope rules (10027101)', () => {
    const full = running({ on_access_policies: Array.from({ length: 10 }, (_, i) => ({ name: `p${i}`, enabled: false })) });
    expect(() => editOwnPolicy(full, ctx, () => {})).toThrow(expect.objectContaining({ status: 409, code: OntapCodes.TOO_MANY_OA_POLICIES }));
    expect(() => editOwnPolicy(running(), ctx, (p) => { p.scope.max_file_size = 10; })).toThrow(expect.objectContaining({ status: 400, code: OntapCodes.SIZE_OUT_OF_RANGE }));
  });
});

describe('setOnefsPool', () => {
  it('creates, replaces and removes the pool; refuses to remove the last active pool while Vscan is on (10027070)', () => {
    const withPool = setOnefsPool(running(), ['10.0.0.6', '10.0.0.7:3311'], ctx);
    expect(withPool.scanner_pools.find((p) => p.name === kOnefsPoolName)).toMatchObject({ servers: ['10.0.0.6', '10.0.0.7:3311'], role: 'primary' });
    expect(setOnefsPool(withPool, [], ctx).scanner_pools.map((p) => p.name)).toEqual(['p1']);
    const only = running({ scanner_pools: [] });
    const onefsOnly = setOnefsPool({ ...only, enabled: false }, ['10.0.0.6'], ctx);
    expect(() => setOnefsPool({ ...onefsOnly, enabled: true }, [], ctx)).toThrow(expect.objectContaining({ status: 409, code: OntapCodes.LAST_ACTIVE_POOL }));
    expect(() => setOnefsPool(running(), ['127.0.0.1'], { ...ctx, labMode: false })).toThrow(expect.objectContaining({ code: OntapCodes.LOOPBACK_V4 }));
  });
});
