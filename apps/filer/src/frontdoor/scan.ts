// One SCAN judged: the absolute path a client sent is located in a volume and share, turned into the
// access the SVM's engine decides with the share's profile, and the answer worded as clamd would.
// Never throws: every failure is an ERROR reply naming its cause.
import { existsSync } from 'node:fs';
import type { FileAccess } from '@avscan/engine';
import { FilerError, FilerErrorCodes } from '../errors.js';
import type { FilerRuntime } from '../model.js';
import { accessOf } from '../paths.js';
import { locate, type Located } from './locate.js';
import { errorReply, replyOf, type Reply } from './reply.js';

const kNoSuchFile = 'File path check failure: No such file or directory.';

function failed(err: unknown): Reply {
  return errorReply(`Scan failed: ${(err as Error)?.message ?? String(err)}`);
}

/** The file a SCAN names, as the engine sees it, or the ERROR reply saying why there is none. */
function prepare(runtime: FilerRuntime, raw: string, signal: AbortSignal): Reply | { located: Located; access: FileAccess } {
  let located: Located | undefined;
  try {
    located = locate(runtime, raw);
    const profile = runtime.profileFor(located.resolved.volume.svm, located.share?.profile, 'open');
    const access = accessOf(located.resolved, profile === undefined ? { signal } : { profile, signal });
    return { located, access };
  } catch (err) {
    if (!(err instanceof FilerError)) return failed(err);
    // A missing file is told in clamd's words, which clients and Samba's logs already know.
    if (err.code === FilerErrorCodes.NOT_FOUND && located !== undefined && !existsSync(located.resolved.file)) return errorReply(kNoSuchFile);
    return errorReply(`Access denied: ${err.message}`);
  }
}

/** Judges one SCAN: never throws; every failure is an ERROR reply naming its cause. */
export async function scanReply(runtime: FilerRuntime, raw: string, signal: AbortSignal): Promise<Reply> {
  const prepared = prepare(runtime, raw, signal);
  if ('kind' in prepared) return prepared;
  const { located, access } = prepared;
  try {
    const engine = runtime.engine(located.resolved.volume.svm);
    const answer = await engine.open(access);
    if (answer.reason !== 'quarantined') return replyOf(answer);
    // The verdict that quarantined the file may still be in the engine's group commit (an access
    // right after the scan is answered from the engine's cache): wait for it to be durable, so the
    // reply names the threat.
    const key = { volume: access.volume, fileId: access.fileId };
    let threats = (await runtime.store.getAttributes(key))?.threats;
    if (threats === undefined || threats.length === 0) {
      await engine.drain();
      threats = (await runtime.store.getAttributes(key))?.threats;
    }
    return replyOf(answer, threats);
  } catch (err) {
    return failed(err);
  }
}
