// In-process access to the matching core (no worker threads): compile a database once, match buffers or
// streams on the calling thread. The engine's workers run the very same automaton.
import { compileAutomaton, createCursor, feed, threatNames, type CompiledAutomaton, type ScanCursor } from './automaton.js';
import { parseSignatures, type Signature } from './signatures.js';

export class SignatureMatcher {
  readonly #automaton: CompiledAutomaton;

  private constructor(automaton: CompiledAutomaton) {
    this.#automaton = automaton;
  }

  /** Parses database text (see README format) and compiles it. Throws coded ScannerErrors. */
  static fromText(text: string): SignatureMatcher {
    return new SignatureMatcher(compileAutomaton(parseSignatures(text).signatures));
  }

  static fromSignatures(signatures: readonly Signature[]): SignatureMatcher {
    return new SignatureMatcher(compileAutomaton(signatures));
  }

  /** Number of automaton states (memory is about 1 KiB per state). */
  get states(): number {
    return this.#automaton.stateCount;
  }

  /** Distinct threat names found in `data`, in stream order (by where each first match ends). */
  match(data: Uint8Array): string[] {
    const cursor = createCursor(this.#automaton);
    feed(this.#automaton, cursor, data);
    return threatNames(this.#automaton, cursor);
  }

  /** A stream matcher: push chunks in order; matches across chunk boundaries are found. */
  stream(): { push(chunk: Uint8Array): void; threats(): string[] } {
    const a = this.#automaton;
    const cursor: ScanCursor = createCursor(a);
    return { push: (chunk) => feed(a, cursor, chunk), threats: () => threatNames(a, cursor) };
  }
}
