// The extensions `npm start` loads into the filer: the data path and the volume watcher (src/data),
// the clamd front door (src/frontdoor), the administrator's jobs, schedules, reports and audit log
// (src/admin). Embedders pass their own list to startFiler instead.
import { adminExtension } from './admin/index.js';
import type { FilerConfig } from './config/config.js';
import { dataPathExtension } from './data/routes.js';
import { volumeWatcherExtension } from './data/watcher.js';
import { frontdoorExtension } from './frontdoor/index.js';
import type { FilerExtension } from './model.js';

export function builtInExtensions(config: FilerConfig): FilerExtension[] {
  return [
    dataPathExtension(),
    // In a cluster one node watches the shared volumes: every watcher rescans a file written behind the nodes' backs.
    ...(config.watchVolumes ? [volumeWatcherExtension()] : []),
    frontdoorExtension({ stateDir: config.stateDir }),
    adminExtension(),
  ];
}
