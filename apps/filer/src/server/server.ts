// The management server: fastify over HTTPS with Basic auth on every route, ONTAP's error object for
// every refusal, bodies with dotted keys merged before validation, the API reference at /docs/api,
// and the app's extensions (data path, watcher, clamd front door) registered inside the same
// authenticated scope and started once the server listens.
import diagnostics_channel from 'node:diagnostics_channel';
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FilerExtension } from '../model.js';
import type { ManagedRuntime } from '../runtime/managed.js';
import { makeAuthenticator, type User } from './auth.js';
import { expandDotted } from './body.js';
import { OntapCodes, OntapError, toOntapError } from './ontap-error.js';
import { errorBodyFor } from './papi-error.js';
import type { TlsFiles } from './tls.js';
import { createSessions, kSessionPath } from './session.js';
import { registerApi } from '../api/routes.js';

export interface ServerOptions {
  readonly runtime: ManagedRuntime;
  readonly tls: TlsFiles;
  readonly users: readonly User[];
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** 0 picks a free port. @default 8443 */
  readonly port?: number;
  /** Try the next ports when `port` is taken (the embedded default does). @default 0 */
  readonly portAttempts?: number;
  readonly extensions?: readonly FilerExtension[];
  /** fastify's (pino) logger options, or false. @default false */
  readonly logger?: boolean | Record<string, unknown>;
}

export interface FilerServer {
  readonly app: FastifyInstance;
  /** `https://host:port` */
  readonly url: string;
  readonly port: number;
  /** Stops the services (reverse order), then the server. The runtime stays open (the caller owns it). */
  close(): Promise<void>;
}

const kMaxBody = 1024 * 1024;

/** Published on `avscan:filer:management` after each successful POST/PATCH/PUT/DELETE under /api or /platform. */
export interface ManagementMessage {
  readonly method: string;
  /** URL path without the query. */
  readonly path: string;
  /** The parsed query (OneFS names a zone with `zone=`). */
  readonly query: Readonly<Record<string, unknown>>;
  readonly status: number;
  readonly body: unknown;
  readonly user?: string;
}

export const kManagementChannel = 'avscan:filer:management';
const kManagement = diagnostics_channel.channel(kManagementChannel);

export async function buildApp(options: ServerOptions): Promise<FastifyInstance> {
  const authenticate = makeAuthenticator(options.users);
  const app = Fastify({
    https: { key: options.tls.key, cert: options.tls.cert },
    // Names are up to 256 characters, percent-encoded up to three times that.
    routerOptions: { maxParamLength: 1024 },
    // A URL the router cannot take (bad encoding, over-long parameter) still gets auth and ONTAP's shape.
    frameworkErrors: (err, req, reply) => {
      let e: OntapError;
      try {
        authenticate(req.headers.authorization);
        e = new OntapError(400, OntapCodes.BAD_FIELD, `malformed URL: ${err.message.slice(0, 200)}`);
      } catch (authError) {
        e = authError as OntapError;
        void reply.header('www-authenticate', 'Basic realm="avscan"');
      }
      // The reply is not yet typed by a route here.
      const untyped = reply as unknown as { status(n: number): { type(t: string): { send(b: unknown): void } } };
      untyped.status(e.status).type('application/json').send(errorBodyFor(req.url, e));
    },
    logger: options.logger ?? false,
    bodyLimit: kMaxBody,
    // Wrong types and unknown fields are refused, never coerced or dropped (ONTAP answers 400).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
    forceCloseConnections: true,
    return503OnClosing: true,
  });

  app.addContentTypeParser(['application/json', 'application/hal+json'], { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, expandDotted(JSON.parse(text)));
    } catch (err) {
      done(err instanceof OntapError ? err : new OntapError(400, OntapCodes.BAD_FIELD, `malformed JSON body: ${(err as Error).message}`), undefined);
    }
  });
  const sessions = createSessions(options.users);
  app.addHook('onRequest', async (req, reply) => {
    // The OneFS session login is the one route without credentials in the headers: they are its body.
    if (req.method === 'POST' && req.url.split('?')[0] === kSessionPath) return;
    const token = req.headers['x-csrf-token'];
    const bySession = req.headers.authorization === undefined
      ? sessions.user(req.headers.cookie, typeof token === 'string' ? token : undefined, req.method !== 'GET' && req.method !== 'HEAD')
      : undefined;
    req.user = bySession ?? authenticate(req.headers.authorization);
    void reply;
  });
  app.post(kSessionPath, async (req, reply) => {
    const s = sessions.login(req.body);
    void reply.status(201).header('set-cookie', [
      `isisessid=${s.id}; Path=/; Secure; HttpOnly; SameSite=Strict`,
      `isicsrf=${s.csrf}; Path=/; Secure; SameSite=Strict`,
    ]);
    return { services: ['platform', 'namespace'], timeout_absolute: s.timeoutAbsolute, timeout_inactive: s.timeoutInactive, username: s.user };
  });
  app.get(kSessionPath, async (req) => ({ username: req.user, services: ['platform', 'namespace'] }));
  app.delete(kSessionPath, async (req, reply) => {
    sessions.logout(req.headers.cookie);
    void reply.status(204);
  });
  // Every configuration change that succeeded, through either API, for the audit log's management
  // events and anything else that follows the configuration (the scheduler): a diagnostics channel,
  // free while nobody listens.
  // onSend, not onResponse: subscribers start recording before the client has its answer, so a
  // client that reads the audit log next finds the change.
  app.addHook('onSend', async (req, reply, payload) => {
    if (!kManagement.hasSubscribers || req.method === 'GET' || req.method === 'HEAD' || reply.statusCode >= 400) return payload;
    const url = req.url.split('?')[0]!;
    if (!url.startsWith('/api/') && !url.startsWith('/platform/')) return payload;
    const change: ManagementMessage = { method: req.method, path: url, query: (req.query ?? {}) as Record<string, unknown>, status: reply.statusCode, body: req.body, ...(req.user === undefined ? {} : { user: req.user }) };
    kManagement.publish(change);
    return payload;
  });
  app.setErrorHandler((err, req, reply) => {
    const e = toOntapError(err);
    if (e.status >= 500) app.log.error(err);
    if (e.status === 401) void reply.header('www-authenticate', 'Basic realm="avscan"');
    // One error class inside; the OneFS routes answer in PAPI's shape, the rest in ONTAP's.
    void reply.status(e.status).type('application/json').send(errorBodyFor(req.url, e));
  });
  // A known path with a method it does not take is 405 (ONTAP's code 3), with the methods it takes.
  const routes: { re: RegExp; method: string }[] = [];
  app.addHook('onRoute', (r) => {
    const re = new RegExp(`^${r.url.replace(/[.+?^${}()[\]\\|]/g, '\\$&').replace(/:[A-Za-z0-9_]+/g, '[^/]+').replace(/\*/g, '.*')}/?$`);
    for (const m of [r.method].flat()) if (m !== 'HEAD') routes.push({ re, method: m });
  });
  app.setNotFoundHandler((req, reply) => {
    const p = req.url.split('?')[0]!;
    const allowed = [...new Set(routes.filter((r) => r.re.test(p)).map((r) => r.method))];
    if (allowed.length > 0) {
      void reply.status(405).header('allow', allowed.join(', ')).send(errorBodyFor(p, new OntapError(405, OntapCodes.UNSUPPORTED, `\`${req.method}\` is not supported on \`${p.slice(0, 200)}\`; use ${allowed.join(', ')}`)));
      return;
    }
    void reply.status(404).send(errorBodyFor(p, new OntapError(404, OntapCodes.NOT_FOUND, `no such resource \`${req.method} ${p.slice(0, 200)}\``)));
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'avscan filer emulator — ONTAP Vscan REST API', version: '9.14.1' },
      components: { securitySchemes: { basic: { type: 'http', scheme: 'basic' } } },
      security: [{ basic: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs/api' });
  await registerApi(app, options.runtime);
  await app.register(async (scope) => {
    for (const ext of options.extensions ?? []) await ext.routes?.(scope, options.runtime);
  });
  return app;
}

export async function startServer(options: ServerOptions): Promise<FilerServer> {
  const app = await buildApp(options);
  const host = options.host ?? '127.0.0.1';
  let port = options.port ?? 8443;
  for (let attempt = 0; ; attempt++) {
    try {
      await app.listen({ host, port });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= (options.portAttempts ?? 0) || port === 0) {
        await app.close();
        throw err;
      }
      port++;
    }
  }
  const address = app.server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  const services: { close(): Promise<void> }[] = [];
  try {
    for (const ext of options.extensions ?? []) {
      const s = await ext.start?.(options.runtime);
      if (s !== undefined) services.push(s);
    }
  } catch (err) {
    for (const s of services.reverse()) await s.close().catch(() => {});
    await app.close();
    throw err;
  }
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    app, port: bound, url: `https://${shown}:${bound}`,
    async close() {
      for (const s of services.reverse()) await s.close().catch((err: unknown) => app.log.error(err));
      await app.close();
    },
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    user?: string;
  }
}
