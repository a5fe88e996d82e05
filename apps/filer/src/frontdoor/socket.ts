// The front door's unix socket: created owner-only (0600) — or 0660 owned by a named group when the
// operator lets a group in — with no window in which it is wider: the umask is tightened around the
// bind, then the mode and group are set before the first connection is accepted. An existing file at
// the path is replaced only when it is a socket nobody answers on (a crashed filer's leftover); a
// live socket or any other kind of file is an error, never silently removed.
import { chmodSync, chownSync, lstatSync, readFileSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { FilerError, FilerErrorCodes, show } from '../errors.js';

/** Group id of a group name (from /etc/group) or a numeric gid. */
export function groupId(group: string | number): number {
  if (typeof group === 'number') {
    if (Number.isInteger(group) && group >= 0) return group;
  } else if (/^\d+$/.test(group)) {
    return Number(group);
  } else {
    let lines: string[] = [];
    try {
      lines = readFileSync('/etc/group', 'utf8').split('\n');
    } catch {
      /* no group database: the name is unknown */
    }
    for (const line of lines) {
      const [name, , gid] = line.split(':');
      if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
    }
  }
  throw new FilerError(FilerErrorCodes.INVALID_CONFIG, `socket group ${show(group)} does not exist`, 'frontdoor.socketGroup');
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection(socketPath);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function clearStale(socketPath: string): Promise<void> {
  let st;
  try {
    st = lstatSync(socketPath);
  } catch {
    return;
  }
  if (!st.isSocket()) {
    throw new FilerError(FilerErrorCodes.SOCKET_IN_USE, `${show(socketPath)} exists and is not a socket`, 'frontdoor.socket');
  }
  if (await answers(socketPath)) {
    throw new FilerError(FilerErrorCodes.SOCKET_IN_USE, `another process is listening on ${show(socketPath)}`, 'frontdoor.socket');
  }
  unlinkSync(socketPath);
}

/** Listens on `socketPath` with mode 0600, or 0660 and group `gid` when given. */
export async function listenUnix(server: net.Server, socketPath: string, gid: number | undefined): Promise<void> {
  await clearStale(socketPath);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // The bind happens inside listen(), synchronously: the umask covers exactly the socket's creation.
    const old = process.umask(0o177);
    try {
      server.listen({ path: socketPath, backlog: 511 }, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(old);
    }
  });
  try {
    if (gid !== undefined) chownSync(socketPath, -1, gid);
    chmodSync(socketPath, gid !== undefined ? 0o660 : 0o600);
  } catch (err) {
    server.close();
    throw err;
  }
}
