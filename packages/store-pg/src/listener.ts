// The LISTEN connection of a node: one dedicated client (outside the pool, which would recycle it)
// receiving lock releases and cache invalidations from every node. When it breaks (PostgreSQL
// restarted, network cut) it reconnects by itself with a doubling delay; `onUp` / `onDown` let the
// store turn its cache off while notifications may be missed, and flush it when they flow again.
import pg from 'pg';
import { kCacheChannel, kUnlockChannel } from './schema.js';

export interface ListenerHooks {
  readonly onUnlock: (volume: string, fileId: string) => void;
  readonly onCache: (message: CacheMessage) => void;
  /** LISTEN is (re-)established: everything that happened while down is unknown. */
  readonly onUp: () => void;
  readonly onDown: (err: unknown) => void;
}

/** A cache invalidation: keys, a whole volume, everything, or a new signature watermark. */
export interface CacheMessage {
  readonly k?: ReadonlyArray<readonly [string, string]>;
  readonly v?: string;
  readonly all?: 1;
  readonly w?: number;
}

const kMaxDelayMs = 2000;

export class Listener {
  readonly #config: pg.ClientConfig;
  readonly #hooks: ListenerHooks;
  readonly #firstDelayMs: number;
  #client: pg.Client | undefined;
  #delayMs: number;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #up = false;

  constructor(config: pg.ClientConfig, firstDelayMs: number, hooks: ListenerHooks) {
    this.#config = config;
    this.#hooks = hooks;
    this.#firstDelayMs = firstDelayMs;
    this.#delayMs = firstDelayMs;
  }

  get up(): boolean {
    return this.#up;
  }

  /** Connects and LISTENs; rejects if the first attempt fails (the store is not opened then). */
  async start(): Promise<void> {
    await this.#connect();
  }

  async #connect(): Promise<void> {
    const client = new pg.Client(this.#config);
    this.#client = client;
    client.on('error', (err) => this.#lost(client, err));
    client.on('end', () => this.#lost(client, new Error('LISTEN connection ended')));
    client.on('notification', (msg) => this.#dispatch(msg));
    await client.connect();
    await client.query(`LISTEN ${kUnlockChannel}; LISTEN ${kCacheChannel}`);
    if (this.#closed || this.#client !== client) return;
    this.#delayMs = this.#firstDelayMs;
    this.#up = true;
    this.#hooks.onUp();
  }

  #lost(client: pg.Client, err: unknown): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    client.end().catch(() => {});
    if (this.#up) {
      this.#up = false;
      this.#hooks.onDown(err);
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#closed || this.#timer !== undefined) return;
    const delay = this.#delayMs;
    this.#delayMs = Math.min(kMaxDelayMs, this.#delayMs * 2);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#connect().catch(() => {
        const failed = this.#client;
        if (failed !== undefined) this.#lost(failed, new Error('reconnect failed'));
        else this.#schedule();
      });
    }, delay);
    this.#timer.unref();
  }

  #dispatch(msg: pg.Notification): void {
    try {
      const payload = JSON.parse(msg.payload ?? 'null') as unknown;
      if (msg.channel === kUnlockChannel && Array.isArray(payload)) this.#hooks.onUnlock(String(payload[0]), String(payload[1]));
      else if (msg.channel === kCacheChannel && payload !== null && typeof payload === 'object') this.#hooks.onCache(payload as CacheMessage);
    } catch {
      // Not ours (another application NOTIFYing on our channel): ignore.
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const client = this.#client;
    this.#client = undefined;
    this.#up = false;
    if (client !== undefined) await client.end().catch(() => {});
  }
}
