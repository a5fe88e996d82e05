// JSON schemas of the request bodies (ajv validates them; @fastify/swagger turns them into /docs/api).
// Unknown fields are refused (`additionalProperties: false`), types are never coerced.
const str = { type: 'string' } as const;
const bool = { type: 'boolean' } as const;
const strArr = { type: 'array', items: str, maxItems: 10_000 } as const;
const obj = (properties: Record<string, unknown>, required: string[] = []): Record<string, unknown> =>
  ({ type: 'object', additionalProperties: false, properties, ...(required.length ? { required } : {}) });

export const svmRefSchema = obj({ name: str, uuid: str });

const oaScope = obj({
  include_extensions: strArr, exclude_extensions: strArr, exclude_paths: strArr, max_file_size: { type: 'integer' },
  scan_without_extension: bool, scan_readonly_volumes: bool, only_execute_access: bool,
});
const odScope = obj({ include_extensions: strArr, exclude_extensions: strArr, exclude_paths: strArr, max_file_size: { type: 'integer' }, scan_without_extension: bool });

const oaFields = { enabled: bool, mandatory: bool, protocol: { type: 'string', enum: ['CIFS'] }, scope: oaScope };
export const oaPost = obj({ name: { type: 'string', maxLength: 256 }, svm: svmRefSchema, ...oaFields }, ['name']);
export const oaPatch = obj(oaFields);

const poolFields = { servers: strArr, privileged_users: strArr, role: { type: 'string', enum: ['primary', 'secondary', 'idle'] }, cluster: obj({ name: str, uuid: str }) };
export const poolPost = obj({ name: { type: 'string', maxLength: 256 }, svm: svmRefSchema, ...poolFields }, ['name', 'servers', 'privileged_users']);
export const poolPatch = obj(poolFields);

const odFields = { log_path: str, scan_paths: strArr, schedule: obj({ name: str, uuid: str }), scope: odScope };
export const odPost = obj({ name: { type: 'string', maxLength: 256 }, svm: svmRefSchema, ...odFields }, ['name', 'log_path', 'scan_paths']);
export const odPatch = obj(odFields);

export const vscanPost = obj({
  svm: svmRefSchema, enabled: bool,
  scanner_pools: { type: 'array', items: poolPost, maxItems: 100 },
  on_access_policies: { type: 'array', items: oaPost, maxItems: 100 },
  on_demand_policies: { type: 'array', items: odPost, maxItems: 100 },
}, ['svm']);
export const vscanPatch = obj({
  enabled: bool, cache_clear: bool,
  scanner_pools: { type: 'array', items: poolPost, maxItems: 100 },
  on_access_policies: { type: 'array', items: oaPost, maxItems: 100 },
});
export const filePatch = obj({ quarantined: bool }, ['quarantined']);

/** Query strings: any field may filter, so only the conventions are described. */
export const listQuery = {
  type: 'object',
  properties: {
    fields: { type: 'string', description: 'comma list of fields; * for all' },
    max_records: { type: 'string', description: 'page size; _links.next points at the next page' },
    order_by: { type: 'string', description: '`field [asc|desc]`, comma list' },
    return_records: { type: 'string', enum: ['true', 'false'] },
    return_timeout: { type: 'string' },
  },
  additionalProperties: { type: 'string' },
} as const;
export const mutationQuery = {
  type: 'object',
  properties: { return_records: { type: 'string', enum: ['true', 'false'] }, return_timeout: str },
  additionalProperties: { type: 'string' },
} as const;
export const svmParams = obj({ svm_uuid: str }, ['svm_uuid']);
export const namedParams = obj({ svm_uuid: str, name: str }, ['svm_uuid', 'name']);
