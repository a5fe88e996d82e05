// The CLI's connection to a running filer: HTTPS with Basic auth, over one undici Agent (keep-alive),
// answers decoded as JSON. `--insecure` trusts a self-signed certificate (the embedded default's).
import { Agent, request, type Dispatcher } from 'undici';

export interface Connection {
  /** @default https://127.0.0.1:8443 (env AVSCAN_URL) */
  readonly url: string;
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  /** Accept a certificate that does not verify (self-signed). @default false */
  readonly insecure?: boolean;
}

export const kDefaultUrl = 'https://127.0.0.1:8443';

export interface ApiReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /** Decoded JSON, or `undefined` for a body that is not JSON. */
  readonly json: any;
  readonly bytes: Buffer;
}

/** An answer the API gave as an error object (`{"error":{"code","message","target"}}`), or no answer. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly target: string | undefined;
  readonly reason: string | undefined;
  /** The answer's JSON body, when there was one. */
  readonly body: unknown;
  constructor(status: number, code: string, message: string, target?: string, reason?: string, body?: unknown) {
    super(message);
    this.body = body;
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.target = target;
    this.reason = reason;
  }
}

export type Query = Record<string, string | number | boolean | undefined>;

export class ApiClient {
  readonly #base: URL;
  readonly #auth: string | undefined;
  readonly #agent: Dispatcher;

  constructor(c: Connection) {
    this.#base = new URL(c.url);
    this.#auth = c.user !== undefined ? `Basic ${Buffer.from(`${c.user}:${c.password ?? ''}`).toString('base64')}` : undefined;
    this.#agent = new Agent({ connect: { rejectUnauthorized: c.insecure !== true }, connections: 4 });
  }

  /** Sends a request; any 4xx/5xx becomes an ApiError (with the API's code, message, target). */
  async call(method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE', path: string, options: { query?: Query; body?: Buffer | string | NodeJS.ReadableStream; json?: unknown } = {}): Promise<ApiReply> {
    const u = new URL(path, this.#base);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    const headers: Record<string, string> = {};
    if (this.#auth !== undefined) headers['authorization'] = this.#auth;
    let body = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] = 'application/json';
    } else if (body !== undefined) {
      headers['content-type'] = 'application/octet-stream';
    }
    let res;
    try {
      res = await request(u, { method, headers, dispatcher: this.#agent, ...(body !== undefined ? { body: body as string } : {}) });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new ApiError(0, e.code ?? 'ECONNECT', `cannot reach ${this.#base.origin}: ${e.message}`);
    }
    const bytes = Buffer.from(await res.body.arrayBuffer());
    let json: unknown;
    if (String(res.headers['content-type'] ?? '').includes('json')) {
      try {
        json = JSON.parse(bytes.toString('utf8'));
      } catch {
        json = undefined;
      }
    }
    if (res.statusCode >= 400) {
      const err = (json as { error?: { code?: unknown; message?: unknown; target?: unknown; reason?: unknown } } | undefined)?.error;
      throw new ApiError(
        res.statusCode, err?.code !== undefined ? String(err.code) : `HTTP_${res.statusCode}`,
        typeof err?.message === 'string' ? err.message : `HTTP ${res.statusCode}`,
        typeof err?.target === 'string' ? err.target : undefined, typeof err?.reason === 'string' ? err.reason : undefined, json,
      );
    }
    return { status: res.statusCode, headers: res.headers, json, bytes };
  }

  async get(path: string, query?: Query): Promise<any> {
    return (await this.call('GET', path, query !== undefined ? { query } : {})).json;
  }

  /** Every record of an ONTAP collection, following `_links.next`. */
  async records(path: string, query?: Query): Promise<any[]> {
    const out: any[] = [];
    let page = await this.get(path, query);
    for (;;) {
      out.push(...((page?.records as unknown[] | undefined) ?? []));
      const next = page?._links?.next?.href as string | undefined;
      if (next === undefined) return out;
      page = await this.get(next);
    }
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}
