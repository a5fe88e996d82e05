// The administrator's extension of the filer: the back end of on-demand jobs, schedules, reports and
// the audit log (services.ts) started with the filer, and their REST routes: ONTAP side (routes.ts),
// OneFS antivirus PAPI (onefs.ts), and the dashboard (../dashboard).
import type { FilerExtension, FilerRuntime } from '../model.js';
import type { ManagedRuntime } from '../runtime/managed.js';
import { FilerError, FilerErrorCodes } from '../errors.js';
import { registerDashboard } from '../dashboard/routes.js';
import { startDashboardStats, type DashboardStats } from '../dashboard/stats.js';
import { registerOnefsRoutes } from './onefs.js';
import { registerAdminRoutes } from './routes.js';
import { startAdminServices, type AdminOptions, type AdminServices } from './services.js';

function managed(rt: FilerRuntime): ManagedRuntime {
  if (!('vscan' in rt) || !('mutate' in rt)) throw new FilerError(FilerErrorCodes.INVALID_CONFIG, 'the admin extension needs the managed runtime (startFiler)', 'extensions');
  return rt as ManagedRuntime;
}

/** The extension plus a handle on its services once started (tests and the dashboard read them). */
export interface AdminExtension extends FilerExtension {
  services(): AdminServices | undefined;
}

export function adminExtension(options: AdminOptions = {}): AdminExtension {
  let services: AdminServices | undefined;
  let stats: DashboardStats | undefined;
  // Routes are registered before the server listens and services start after: whichever comes first
  // starts them, so no request finds them missing.
  const ensure = (rt: FilerRuntime): AdminServices => {
    stats ??= startDashboardStats();
    return (services ??= startAdminServices(managed(rt), options));
  };
  return {
    name: 'admin',
    services: () => services,
    async routes(app, rt) {
      const m = managed(rt);
      await registerAdminRoutes(app, m, () => ensure(m));
      await registerOnefsRoutes(app, m, () => ensure(m));
      await registerDashboard(app, m, () => ensure(m), () => {
        ensure(m);
        return stats!;
      });
    },
    async start(rt) {
      const s = ensure(rt);
      return {
        close: async () => {
          await s.close();
          stats?.close();
          services = undefined;
          stats = undefined;
        },
      };
    },
  };
}
