// Validation of the ONTAP on-access policy JSON (SPEC §3 "Validation"): every problem is a coded
// PolicyError naming the field and showing the bad value; nothing is ever silently dropped.
import { PolicyError, PolicyErrorCodes, show, typeName } from './errors.js';
import { compileExtensionPattern, type ExtensionPattern } from './extension.js';
import { compileSegment, GlobSyntaxError, isGlobText, parseComponent } from './glob.js';
import { codePointLength, normalizeComponents, splitComponents, stripTrailingDotsAndSpaces } from './normalize.js';
import { globSegments, type PathEntry, type PathMatchMode } from './paths.js';

export type OnFailure = 'deny' | 'allow' | 'allow-if-previously-clean';
export type OversizeAction = 'allow' | 'deny';

/** The validated policy with every default filled in (camelCase), deep-frozen. */
export interface NormalizedPolicy {
  readonly name: string;
  readonly enabled: boolean;
  readonly mandatory: boolean;
  readonly onFailure: OnFailure;
  readonly scope: NormalizedScope;
}

export interface NormalizedScope {
  /** As given; `[]` is stored as `["*"]` (SPEC: an empty include list means everything). */
  readonly includeExtensions: readonly string[];
  readonly excludeExtensions: readonly string[];
  readonly excludePaths: readonly string[];
  readonly includePaths: readonly string[];
  readonly maxFileSize: number;
  readonly onlyExecuteAccess: boolean;
  readonly scanReadonlyVolumes: boolean;
  readonly scanWithoutExtension: boolean;
  readonly oversizeAction: OversizeAction;
  readonly pathMatch: PathMatchMode;
}

/** Defaults of every optional field (SPEC §3 example policy plus the documented extensions). */
export const kPolicyDefaults = Object.freeze({
  name: 'default_CIFS',
  enabled: true,
  mandatory: true,
  scope: Object.freeze({
    include_extensions: Object.freeze(['*']),
    exclude_extensions: Object.freeze([] as string[]),
    exclude_paths: Object.freeze([] as string[]),
    include_paths: Object.freeze([] as string[]),
    max_file_size: 2147483648,
    only_execute_access: false,
    scan_readonly_volumes: false,
    scan_without_extension: true,
    oversize_action: 'allow',
    path_match: 'prefix',
  }),
});

export const kMaxEntries = 10_000;
export const kMaxEntryLength = 255;
export const kMinFileSize = 1024;
export const kMaxFileSize = 1099511627776;

const kTopFields = new Set(['name', 'enabled', 'mandatory', 'on_failure', 'scope']);
const kScopeFields = new Set(Object.keys(kPolicyDefaults.scope));
const kNamePattern = /^[A-Za-z0-9_.-]{1,256}$/;

/** Validation output used by the compiler: the normalised policy plus pre-parsed entries. */
export interface Prepared {
  readonly policy: NormalizedPolicy;
  readonly includeExtensions: readonly ExtensionPattern[];
  readonly excludeExtensions: readonly ExtensionPattern[];
  readonly excludePaths: readonly PathEntry[];
  readonly includePaths: readonly PathEntry[];
}

function fail(code: (typeof PolicyErrorCodes)[keyof typeof PolicyErrorCodes], target: string, message: string): never {
  throw new PolicyError(code, message, target);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function wrongType(target: string, expected: string, value: unknown): never {
  fail(PolicyErrorCodes.WRONG_TYPE, target, `\`${target}\` must be ${expected}, got ${typeName(value)} ${show(value)}`);
}

/** Validates and prepares a policy; throws PolicyError on the first problem. */
export function prepare(json: unknown): Prepared {
  if (!isPlainObject(json)) wrongType('policy', 'an object', json);
  const top = new Map<string, unknown>();
  const scope = new Map<string, unknown>();
  const nested = new Set<string>();
  for (const key of Object.keys(json)) {
    const value = json[key];
    if (key === 'scope') {
      if (!isPlainObject(value)) wrongType('scope', 'an object', value);
      for (const sk of Object.keys(value)) {
        if (!kScopeFields.has(sk)) fail(PolicyErrorCodes.UNKNOWN_FIELD, `scope.${sk}`, `unknown field \`scope.${sk}\``);
        nested.add(sk);
        scope.set(sk, value[sk]);
      }
    } else if (kTopFields.has(key)) top.set(key, value);
    else if (key.startsWith('scope.') && kScopeFields.has(key.slice(6))) continue;
    else fail(PolicyErrorCodes.UNKNOWN_FIELD, key, `unknown field \`${key}\``);
  }
  for (const key of Object.keys(json)) {
    if (!key.startsWith('scope.')) continue;
    const sk = key.slice(6);
    if (nested.has(sk)) {
      fail(PolicyErrorCodes.DUPLICATE_FIELD, key, `field \`${key}\` is given both nested in \`scope\` and as a dotted key`);
    }
    scope.set(sk, json[key]);
  }

  const name = top.has('name') ? top.get('name') : kPolicyDefaults.name;
  if (typeof name !== 'string') wrongType('name', 'a string', name);
  if (!kNamePattern.test(name)) {
    fail(PolicyErrorCodes.BAD_NAME, 'name', `\`name\` must be 1 to 256 characters of A-Z a-z 0-9 _ . -, got ${show(name)}`);
  }
  const enabled = bool(top, 'enabled', 'enabled', kPolicyDefaults.enabled);
  const mandatory = bool(top, 'mandatory', 'mandatory', kPolicyDefaults.mandatory);
  const onFailure = oneOf(top, 'on_failure', 'on_failure', ['deny', 'allow', 'allow-if-previously-clean'], mandatory ? 'deny' : 'allow') as OnFailure;

  const d = kPolicyDefaults.scope;
  const includeExtensionsRaw = list(scope, 'include_extensions', d.include_extensions);
  const excludeExtensionsRaw = list(scope, 'exclude_extensions', d.exclude_extensions);
  const excludePathsRaw = list(scope, 'exclude_paths', d.exclude_paths);
  const includePathsRaw = list(scope, 'include_paths', d.include_paths);
  const maxFileSize = scope.has('max_file_size') ? scope.get('max_file_size') : d.max_file_size;
  if (typeof maxFileSize !== 'number') wrongType('scope.max_file_size', 'an integer', maxFileSize);
  if (!Number.isInteger(maxFileSize) || maxFileSize < kMinFileSize || maxFileSize > kMaxFileSize) {
    fail(
      PolicyErrorCodes.BAD_SIZE,
      'scope.max_file_size',
      `\`scope.max_file_size\` must be an integer from ${kMinFileSize} to ${kMaxFileSize}, got ${show(maxFileSize)}`,
    );
  }
  const onlyExecuteAccess = bool(scope, 'only_execute_access', 'scope.only_execute_access', d.only_execute_access);
  const scanReadonlyVolumes = bool(scope, 'scan_readonly_volumes', 'scope.scan_readonly_volumes', d.scan_readonly_volumes);
  const scanWithoutExtension = bool(scope, 'scan_without_extension', 'scope.scan_without_extension', d.scan_without_extension);
  const oversizeAction = oneOf(scope, 'oversize_action', 'scope.oversize_action', ['allow', 'deny'], d.oversize_action) as OversizeAction;
  const pathMatch = oneOf(scope, 'path_match', 'scope.path_match', ['prefix', 'component'], d.path_match) as PathMatchMode;

  const includeExtensionsList = includeExtensionsRaw.length === 0 ? d.include_extensions : includeExtensionsRaw;
  const includeExtensions = includeExtensionsList.map((e, i) => extension(e, i, 'scope.include_extensions'));
  const excludeExtensions = excludeExtensionsRaw.map((e, i) => extension(e, i, 'scope.exclude_extensions'));
  const excludePaths = excludePathsRaw.map((e, i) => pathEntry(e, i, 'scope.exclude_paths'));
  const includePaths = includePathsRaw.map((e, i) => pathEntry(e, i, 'scope.include_paths'));

  const policy: NormalizedPolicy = Object.freeze({
    name,
    enabled,
    mandatory,
    onFailure,
    scope: Object.freeze({
      includeExtensions: Object.freeze([...includeExtensionsList]),
      excludeExtensions: Object.freeze([...excludeExtensionsRaw]),
      excludePaths: Object.freeze([...excludePathsRaw]),
      includePaths: Object.freeze([...includePathsRaw]),
      maxFileSize,
      onlyExecuteAccess,
      scanReadonlyVolumes,
      scanWithoutExtension,
      oversizeAction,
      pathMatch,
    }),
  });
  return { policy, includeExtensions, excludeExtensions, excludePaths, includePaths };
}

/** Validates a policy and returns it normalised with defaults (same checks as compilePolicy). */
export function validatePolicy(json: unknown): NormalizedPolicy {
  return prepare(json).policy;
}

function bool(fields: Map<string, unknown>, key: string, target: string, fallback: boolean): boolean {
  if (!fields.has(key)) return fallback;
  const v = fields.get(key);
  if (typeof v !== 'boolean') wrongType(target, 'a boolean', v);
  return v;
}

function oneOf(fields: Map<string, unknown>, key: string, target: string, allowed: readonly string[], fallback: string): string {
  if (!fields.has(key)) return fallback;
  const v = fields.get(key);
  if (typeof v !== 'string') wrongType(target, 'a string', v);
  if (!allowed.includes(v)) {
    fail(PolicyErrorCodes.BAD_VALUE, target, `\`${target}\` must be one of ${allowed.map((a) => `\`${a}\``).join(', ')}, got ${show(v)}`);
  }
  return v;
}

function list(fields: Map<string, unknown>, key: string, fallback: readonly string[]): readonly string[] {
  const target = `scope.${key}`;
  if (!fields.has(key)) return fallback;
  const v = fields.get(key);
  if (!Array.isArray(v)) wrongType(target, 'an array of strings', v);
  if (v.length > kMaxEntries) {
    fail(PolicyErrorCodes.TOO_MANY_ENTRIES, target, `\`${target}\` has ${v.length} entries, at most ${kMaxEntries} are accepted`);
  }
  for (let i = 0; i < v.length; i++) {
    const e: unknown = v[i];
    if (typeof e !== 'string') wrongType(`${target}[${i}]`, 'a string', e);
    if (e.length === 0) fail(PolicyErrorCodes.EMPTY_ENTRY, `${target}[${i}]`, `\`${target}[${i}]\` is empty`);
    if (e.length > kMaxEntryLength && codePointLength(e) > kMaxEntryLength) {
      fail(
        PolicyErrorCodes.ENTRY_TOO_LONG,
        `${target}[${i}]`,
        `\`${target}[${i}]\` is longer than ${kMaxEntryLength} characters: ${show(e)}`,
      );
    }
  }
  return v as string[];
}

function extension(raw: string, index: number, field: string): ExtensionPattern {
  const target = `${field}[${index}]`;
  const bad = (why: string): never => fail(PolicyErrorCodes.BAD_EXTENSION, target, `\`${target}\` ${why}, got ${show(raw)}`);
  if (raw.includes('\\') || raw.includes('/')) bad('must not contain a path separator');
  if (raw.includes('\0')) bad('must not contain a NUL character');
  if (/[[\]{}]/.test(raw)) bad('may use only `*` and `?` as wildcards');
  const normalized = raw.normalize('NFC').toLowerCase();
  if (normalized.split('.').some((p) => p.length === 0)) {
    bad('has an empty part: write extensions without dots at the ends and without doubled dots (`tar.gz`, not `.tar.gz`)');
  }
  return compileExtensionPattern(raw, normalized, index);
}

function pathEntry(raw: string, index: number, field: string): PathEntry {
  const target = `${field}[${index}]`;
  const first = raw.charCodeAt(0);
  if (raw.includes('\0')) fail(PolicyErrorCodes.INVALID_PATH_ENTRY, target, `\`${target}\` holds a NUL character`);
  if (first !== 0x5c && first !== 0x2f) {
    fail(PolicyErrorCodes.PATH_NOT_FROM_ROOT, target, `\`${target}\` must start at the root with \`\\\` or \`/\`, got ${show(raw)}`);
  }
  const glob = isGlobText(raw);
  const badGlob = (err: unknown): never => {
    if (!(err instanceof GlobSyntaxError)) throw err;
    return fail(PolicyErrorCodes.BAD_GLOB, target, `\`${target}\` is not a supported glob: ${err.message}, got ${show(raw)}`);
  };
  if (glob) {
    // Checked per component before `.`/`..` resolution, so a class or brace spanning a separator is
    // refused as unbalanced rather than silently split; but after stripping trailing dots and spaces
    // (SPEC §3 normalises entries like paths before validating them: `\a\**.\b` is `/a/**/b`).
    for (const part of splitComponents(raw)) {
      const c = part === '.' || part === '..' ? part : stripTrailingDotsAndSpaces(part);
      if (c === '**' || !isGlobText(c) && !/[\]}|()]/.test(c)) continue;
      try {
        parseComponent(c);
      } catch (err) {
        badGlob(err);
      }
    }
  }
  const components = normalizeComponents(raw, false);
  if (components === null) {
    fail(PolicyErrorCodes.INVALID_PATH_ENTRY, target, `\`${target}\` does not name a valid path below the root, got ${show(raw)}`);
  }
  const last = raw.charCodeAt(raw.length - 1);
  const trailing = last === 0x5c || last === 0x2f;
  let segments = null;
  if (glob && components.some(isGlobText)) {
    try {
      segments = Object.freeze(globSegments(components.map(compileSegment), trailing));
    } catch (err) {
      badGlob(err);
    }
  }
  return Object.freeze({ index, raw, components: Object.freeze(components), trailing, segments });
}
