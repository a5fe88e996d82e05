// Scanner server state in the database: every connect, disconnect (with ONTAP's
// `disconnected_reason` and the cause in words) and signature update of the dispatcher's servers is
// an event in the store, and the server's row in the server-status table follows it. A REST API
// can then show `server-status` and the events from the database, also after a restart.
import type { EngineDispatcher } from './options.js';
import type { ServerEvent, ServerStatus, SignatureEvent } from '@avscan/dispatch';
import type { EngineStore } from './store-port.js';

export class ServerLog {
  readonly #store: EngineStore;
  readonly #dispatcher: EngineDispatcher;
  readonly #svm: string;
  readonly #onError: (err: unknown) => void;
  readonly #onSignatures: () => void;
  readonly #onServer = (e: ServerEvent): void => this.#transition(e);
  readonly #onSignature = (e: SignatureEvent): void => this.#signature(e);
  /** Last state recorded per server: a failed reconnect (disconnected → connecting → disconnected) is no new event. */
  readonly #recorded = new Map<string, 'connected' | 'disconnected'>();

  /** `onSignatures` runs after a server reported new signatures (the engine shares the watermark then). */
  constructor(store: EngineStore, dispatcher: EngineDispatcher, svm: string, onError: (err: unknown) => void, onSignatures: () => void = () => {}) {
    this.#store = store;
    this.#dispatcher = dispatcher;
    this.#svm = svm;
    this.#onError = onError;
    this.#onSignatures = onSignatures;
  }

  /**
   * Records the state every server is in now (the dispatcher usually connected before the engine
   * existed), then follows its changes.
   */
  start(): void {
    for (const s of this.#dispatcher.serverStatus()) {
      if (s.state === 'connecting') continue;
      this.#recorded.set(s.server, s.state);
      this.#event(s.state === 'connected' ? 'scanner.connected' : 'scanner.disconnected', s, Date.parse(s.update_time));
      this.#status(s);
    }
    this.#dispatcher.on('server', this.#onServer);
    this.#dispatcher.on('signature', this.#onSignature);
  }

  stop(): void {
    this.#dispatcher.off('server', this.#onServer);
    this.#dispatcher.off('signature', this.#onSignature);
  }

  #find(server: string): ServerStatus | undefined {
    return this.#dispatcher.serverStatus().find((s) => s.server === server);
  }

  #transition(e: ServerEvent): void {
    if (e.to === 'connecting') return;
    const s = this.#find(e.server);
    if (s === undefined) return;
    if (this.#recorded.get(e.server) !== e.to) {
      this.#recorded.set(e.server, e.to);
      this.#event(e.to === 'connected' ? 'scanner.connected' : 'scanner.disconnected', { ...s, message: e.message }, e.time);
    }
    this.#status(s);
  }

  #signature(e: SignatureEvent): void {
    this.#write(this.#store.appendEvent({
      type: 'scanner.signatures_updated', svm: this.#svm, node: this.#store.nodeId, server: e.server, time: e.time,
      details: { pool: e.pool, from: e.from, to: e.to, timestamp: e.timestamp },
    }));
    const s = this.#find(e.server);
    if (s !== undefined) this.#status(s);
    this.#onSignatures();
  }

  #event(type: string, s: ServerStatus, time: number): void {
    this.#write(this.#store.appendEvent({
      type, svm: this.#svm, node: this.#store.nodeId, server: s.server, time,
      ...(s.disconnected_reason !== null && type === 'scanner.disconnected' ? { reason: s.disconnected_reason } : {}),
      details: { pool: s.pool, role: s.role, vendor: s.vendor, version: s.version, signature: s.signature, message: s.message },
    }));
  }

  /** The row is keyed by the server's configured address (`ip` column): unique even for two servers on one host. */
  #status(s: ServerStatus): void {
    if (s.state === 'connecting') return;
    this.#write(this.#store.upsertServerStatus({
      svm: this.#svm, node: this.#store.nodeId, ip: s.server, state: s.state, type: s.type, updateTime: Date.parse(s.update_time),
      ...(s.vendor !== '' ? { vendor: s.vendor } : {}),
      ...(s.version !== '' ? { version: s.version } : {}),
      ...(s.disconnected_reason !== null ? { disconnectedReason: s.disconnected_reason } : {}),
      ...(s.message !== null ? { message: s.message } : {}),
      ...(s.signature !== null ? { signature: s.signature } : {}),
    }));
  }

  #write(p: Promise<unknown>): void {
    p.catch(this.#onError);
  }
}
