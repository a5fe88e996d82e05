// Argument checks shared by the tables: a bad argument is a coded error that changes nothing.
import { StoreError, StoreErrorCodes } from './errors.js';

export function badArgument(name: string, value: unknown, expected: string): StoreError {
  const shown = typeof value === 'string' ? `\`${value.length > 80 ? `${value.slice(0, 80)}…` : value}\`` : `\`${String(value)}\``;
  return new StoreError(StoreErrorCodes.INVALID_ARGUMENT, `\`${name}\` must be ${expected}, got ${shown}`, { target: name });
}

export function checkString(name: string, value: unknown, maxLength = 4096): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw badArgument(name, value, `a non-empty string of at most ${maxLength} characters`);
  }
  return value;
}

export function checkOptionalString(name: string, value: unknown, maxLength = 4096): string | null {
  if (value === undefined || value === null) return null;
  return checkString(name, value, maxLength);
}

export function checkNumber(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw badArgument(name, value, 'a finite number');
  return value;
}

export function checkCount(name: string, value: unknown, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw badArgument(name, value, `an integer in [0, ${max}]`);
  }
  return value;
}

export function checkStringArray(name: string, value: unknown): readonly string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw badArgument(name, value, 'an array of strings');
  }
  return value as string[];
}

/** `/`-separated volume-relative path: starts with `/`, no trailing `/` (except the root `/`). */
export function checkPath(name: string, value: unknown): string {
  const path = checkString(name, value);
  if (!path.startsWith('/') || (path.length > 1 && path.endsWith('/'))) {
    throw badArgument(name, value, 'a volume-relative path starting with `/` and not ending with `/`');
  }
  return path;
}
