// The dashboard's routes, inside the authenticated scope (same Basic auth or OneFS session as the
// API): the page, its script, and `/dashboard/state`, everything the page shows in one JSON.
import type { FastifyInstance } from 'fastify';
import type { JobStatus } from '../jobs/runner.js';
import type { ManagedRuntime } from '../runtime/managed.js';
import { enabledPolicy } from '../vscan/model.js';
import type { AdminServices } from '../admin/services.js';
import { kDashboardHtml, kDashboardJs } from './page.js';
import type { DashboardStats } from './stats.js';

const percent = (s: JobStatus): number | null => (s.total === null ? null : s.total === 0 ? 100 : Math.min(100, Math.round((s.checked / s.total) * 100)));

export async function dashboardState(rt: ManagedRuntime, services: AdminServices, stats: DashboardStats): Promise<Record<string, unknown>> {
  return {
    time: Date.now(),
    svms: rt.svms().map((s) => {
      const doc = rt.vscan(s.name);
      const m = rt.dispatcher(s.name)?.metrics();
      return {
        name: s.name, uuid: s.uuid, enabled: doc.enabled, policy: enabledPolicy(doc)?.name ?? null, queued: m?.queued ?? 0, inFlight: m?.inFlight ?? 0,
        servers: (m?.servers ?? []).map((v) => ({ server: v.server, state: v.state, p50: v.p50, p99: v.p99 })),
      };
    }),
    minutes: stats.minutes(),
    recent: stats.recent().slice(0, 20),
    jobs: services.jobs.list({ maxRecords: 10 }).map((j) => ({
      id: j.id, svm: j.svm, name: j.name, state: j.state, percent: percent(j), checked: j.checked, total: j.total, infected: j.infected, rate: Math.round(j.filesPerSec),
    })),
    reports: (await rt.store.listReports({ maxRecords: 10 })).records.map((r) => ({ id: r.id, kind: r.kind, state: r.state, files: r.filesScanned, infected: r.infectedCount, start: r.startTime })),
  };
}

export async function registerDashboard(app: FastifyInstance, rt: ManagedRuntime, services: () => AdminServices, stats: () => DashboardStats): Promise<void> {
  app.get('/dashboard', async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(kDashboardHtml));
  app.get('/dashboard/app.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(kDashboardJs));
  app.get('/dashboard/state', async (_req, reply) => reply.header('cache-control', 'no-store').send(await dashboardState(rt, services(), stats())));
}
