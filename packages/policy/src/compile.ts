// compilePolicy: validate once, build the lookup structures once, then decide per access with no
// parsing, no regex construction and no allocation beyond (at most) a couple of short substrings
// used as Map/Set keys. Every decision object is created at compile time.
import { createHash } from 'node:crypto';
import { checkAccess, normalizeAccessPath, scratch } from './access.js';
import {
  decision,
  kInScope,
  kInvalidPath,
  kNoExtension,
  kNotExecuteAccess,
  kNotIncludedExtension,
  kNotIncludedPath,
  kPolicyDisabled,
  kReadonlyVolume,
  kTooLargeDeny,
  kTooLargeSkip,
  type Access,
  type Decision,
} from './decision.js';
import { dotsFound, ExtensionList } from './extension.js';
import { kNeedsGeneral, PathMatcher } from './paths.js';
import { prepare, type NormalizedPolicy } from './validate.js';

/** One consulted rule in an explanation. */
export interface ExplainStep {
  /** The rule or field consulted (`path`, `enabled`, `scope.exclude_paths`, ...). */
  readonly rule: string;
  /** What it said, in words. */
  readonly said: string;
  /** This step produced the decision. */
  readonly decided: boolean;
}

export interface Explanation {
  readonly steps: readonly ExplainStep[];
  readonly decision: Decision;
}

export class CompiledPolicy {
  /** The validated policy with defaults filled in (deep-frozen). */
  readonly policy: NormalizedPolicy;
  /** Stable fingerprint of `policy`: equal policies give equal revisions across processes. */
  readonly revision: string;

  // Hot-path copies of the scalar settings (plain fields: no getter chains in decide).
  readonly #enabled: boolean;
  readonly #skipReadonly: boolean;
  readonly #onlyExecute: boolean;
  readonly #scanWithoutExtension: boolean;
  readonly #maxFileSize: number;
  readonly #tooLarge: Decision;
  readonly #exclude: PathMatcher;
  readonly #include: PathMatcher;
  readonly #includeExt: ExtensionList;
  readonly #excludeExt: ExtensionList;
  /** Max parts over both extension lists (≥ 1): how many dots of the last component matter. */
  readonly #maxParts: number;
  /** Invariant: #excludedPath[i] is the frozen decision for exclude_paths[i]; same for the others. */
  readonly #excludedPath: readonly Decision[];
  readonly #excludedExt: readonly Decision[];

  /** @internal use {@link compilePolicy}. */
  constructor(json: unknown) {
    const prepared = prepare(json);
    const p = prepared.policy;
    this.policy = p;
    this.revision = createHash('sha256').update(JSON.stringify(p)).digest('hex').slice(0, 16);
    this.#enabled = p.enabled;
    this.#skipReadonly = !p.scope.scanReadonlyVolumes;
    this.#onlyExecute = p.scope.onlyExecuteAccess;
    this.#scanWithoutExtension = p.scope.scanWithoutExtension;
    this.#maxFileSize = p.scope.maxFileSize;
    this.#tooLarge = p.scope.oversizeAction === 'deny' ? kTooLargeDeny : kTooLargeSkip;
    this.#exclude = new PathMatcher(prepared.excludePaths, p.scope.pathMatch);
    this.#include = new PathMatcher(prepared.includePaths, p.scope.pathMatch);
    this.#includeExt = new ExtensionList(prepared.includeExtensions);
    this.#excludeExt = new ExtensionList(prepared.excludeExtensions);
    this.#maxParts = Math.max(1, this.#includeExt.maxParts, this.#excludeExt.maxParts);
    this.#excludedPath = Object.freeze(prepared.excludePaths.map((e) => decision('skip', 'excluded-path', e.raw)));
    this.#excludedExt = Object.freeze(prepared.excludeExtensions.map((e) => decision('skip', 'excluded-extension', e.raw)));
    Object.freeze(this);
  }

  /** Decides one access. Throws PolicyError(ERR_POLICY_BAD_ACCESS) only for caller bugs. */
  decide(a: Access): Decision {
    checkAccess(a);
    return this.#evaluate(a, null, false);
  }

  /** Every rule consulted, in order, and what it said; ends with the same decision as `decide`. */
  explain(a: Access): Explanation {
    checkAccess(a);
    const steps: ExplainStep[] = [];
    // The general normaliser: the trace prints the normalised path, which the fast path never builds.
    const d = this.#evaluate(a, steps, true);
    return Object.freeze({ steps: Object.freeze(steps), decision: d });
  }

  /**
   * `general`: normalise the path in full first (see normalizeAccessPath). A fast-path walk that reads
   * a character outside ASCII starts over with it; the trace is only kept on the general path, so the
   * restart never repeats a step.
   */
  #evaluate(a: Access, trace: ExplainStep[] | null, general: boolean): Decision {
    const s = normalizeAccessPath(a.path, general, this.#maxParts);
    if (s === null) {
      if (trace !== null) trace.push(step('path', `\`${a.path}\` cannot be normalised`, true));
      return kInvalidPath;
    }
    if (trace !== null) trace.push(step('path', `normalised to \`/${s.split(/[\\/]+/).filter(Boolean).join('/')}\``, false));

    if (!this.#enabled) {
      if (trace !== null) trace.push(step('enabled', 'the policy is disabled', true));
      return kPolicyDisabled;
    }
    if (trace !== null) trace.push(step('enabled', 'the policy is enabled', false));

    if (a.readonlyVolume === true && this.#skipReadonly) {
      if (trace !== null) trace.push(step('scope.scan_readonly_volumes', 'read-only volumes are not scanned', true));
      return kReadonlyVolume;
    }
    if (trace !== null) trace.push(step('scope.scan_readonly_volumes', a.readonlyVolume === true ? 'read-only volumes are scanned' : 'not a read-only volume', false));

    if (this.#onlyExecute && a.execute !== true) {
      if (trace !== null) trace.push(step('scope.only_execute_access', 'only execute opens are scanned and this is not one', true));
      return kNotExecuteAccess;
    }
    if (trace !== null) trace.push(step('scope.only_execute_access', this.#onlyExecute ? 'this is an execute open' : 'every open is scanned', false));

    const raw = scratch.raw;
    if (this.#exclude.size > 0) {
      const hit = this.#exclude.match(s, raw);
      if (hit === kNeedsGeneral) return this.#evaluate(a, trace, true);
      if (hit >= 0) {
        const d = this.#excludedPath[hit]!;
        if (trace !== null) trace.push(step('scope.exclude_paths', `entry \`${d.rule}\` excludes the path`, true));
        return d;
      }
      if (trace !== null) trace.push(step('scope.exclude_paths', 'no entry matches', false));
    } else if (trace !== null) trace.push(step('scope.exclude_paths', 'empty', false));

    if (this.#include.size > 0) {
      const hit = this.#include.match(s, raw);
      if (hit === kNeedsGeneral) return this.#evaluate(a, trace, true);
      if (hit < 0) {
        if (trace !== null) trace.push(step('scope.include_paths', 'the path is under no entry', true));
        return kNotIncludedPath;
      }
      if (trace !== null) trace.push(step('scope.include_paths', `entry \`${this.policy.scope.includePaths[hit]}\` includes the path`, false));
    } else if (trace !== null) trace.push(step('scope.include_paths', 'empty: every path is included', false));

    const le = scratch.lastEnd;
    const found = dotsFound();
    if (found === 0) {
      if (!this.#scanWithoutExtension) {
        if (trace !== null) trace.push(step('scope.scan_without_extension', 'the file has no extension and such files are not scanned', true));
        return kNoExtension;
      }
      if (trace !== null) trace.push(step('scope.scan_without_extension', 'the file has no extension and such files are scanned', false));
    } else {
      const exc = this.#excludeExt.size > 0 ? this.#excludeExt.longest(s, le, found, 0) : null;
      if (exc !== null) {
        // Exclude wins unless a strictly longer include pattern matches.
        const inc = this.#includeExt.longest(s, le, found, exc.parts);
        if (inc === null) {
          if (trace !== null) trace.push(step('scope.exclude_extensions', `pattern \`${exc.raw}\` (${exc.parts} part(s)) matches and no longer include pattern does`, true));
          return this.#excludedExt[exc.index]!;
        }
        if (trace !== null) trace.push(step('scope.exclude_extensions', `pattern \`${exc.raw}\` matches but the longer include pattern \`${inc.raw}\` wins`, false));
      } else {
        if (trace !== null) trace.push(step('scope.exclude_extensions', 'no pattern matches', false));
        const inc = this.#includeExt.matchesAnyOne ?? this.#includeExt.longest(s, le, found, 0);
        if (inc === null) {
          if (trace !== null) trace.push(step('scope.include_extensions', 'no pattern matches', true));
          return kNotIncludedExtension;
        }
        if (trace !== null) trace.push(step('scope.include_extensions', `pattern \`${inc.raw}\` matches`, false));
      }
    }

    if (a.size > this.#maxFileSize) {
      if (trace !== null) trace.push(step('scope.max_file_size', `${a.size} bytes is above the limit of ${this.#maxFileSize}`, true));
      return this.#tooLarge;
    }
    if (trace !== null) {
      trace.push(step('scope.max_file_size', `${a.size} bytes is within the limit of ${this.#maxFileSize}`, false));
      trace.push(step('in-scope', 'no rule skipped the file: scan it', true));
    }
    return kInScope;
  }
}

function step(rule: string, said: string, decided: boolean): ExplainStep {
  return Object.freeze({ rule, said, decided });
}

/** Validates and compiles an ONTAP on-access policy; throws PolicyError, never returns a half-compiled policy. */
export function compilePolicy(json: unknown): CompiledPolicy {
  return new CompiledPolicy(json);
}
