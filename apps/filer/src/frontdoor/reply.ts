// The engine's answer as clamd words it, so Samba's vfs_virusfilter (clamav backend) does the right
// thing with it: `OK` → the open proceeds; `<Name> FOUND` → denied as infected (and Samba's own
// `infected file action` runs); `<msg> ERROR` → denied when the share has `block access on error = yes`
// (Samba's default is fail-open). Every deny that is not an infection therefore has to be an ERROR.
import type { Answer } from '@avscan/engine';

export type ReplyKind = 'OK' | 'FOUND' | 'ERROR';

export interface Reply {
  readonly kind: ReplyKind;
  /** The text after `<path>: ` without the terminator. */
  readonly text: string;
}

/** Threat name reported for a quarantined file whose stored record names none. */
export const kQuarantinedName = 'Avscan.Quarantined';

/** Clamd-style message of a deny that is not an infection (what Samba logs as the scanner error). */
const kDenyMessages: Readonly<Record<string, string>> = {
  'too-large': 'Access denied: file larger than the policy max_file_size',
  'invalid-path': 'Access denied: path not valid for the policy',
  'failure-deny': 'Access denied: no verdict and the policy is on_failure deny',
  'failure-deny-not-previously-clean': 'Access denied: no verdict and the file was not previously clean',
};

/**
 * `storedThreats` matters only for a `quarantined` answer (denied from the attributes, no scan): the
 * reply still names the threat the earlier scan found.
 */
export function replyOf(answer: Answer, storedThreats?: readonly string[]): Reply {
  if (answer.allow) return { kind: 'OK', text: 'OK' };
  if (answer.reason === 'infected' && answer.verdict?.result === 'infected') {
    return { kind: 'FOUND', text: `${answer.verdict.threats[0] ?? kQuarantinedName} FOUND` };
  }
  if (answer.reason === 'quarantined') return { kind: 'FOUND', text: `${storedThreats?.[0] ?? kQuarantinedName} FOUND` };
  const why = kDenyMessages[answer.reason] ?? `Access denied: ${answer.reason}`;
  const detail = answer.verdict?.result === 'failure' ? ` (${answer.verdict.kind}: ${oneLine(answer.verdict.message)})` : '';
  return errorReply(`${why}${detail}`);
}

export function errorReply(message: string): Reply {
  return { kind: 'ERROR', text: `${oneLine(message)} ERROR` };
}

/** A reply is one line ending in the terminator: no NUL or newline may leak from a message into it. */
function oneLine(s: string): string {
  return s.replace(/[\0\r\n]+/g, ' ').slice(0, 400);
}
