// The extensions `npm start` loads into the filer: the clamd front door (src/frontdoor) and the data
// path and volume watcher (src/data). Embedders pass their own list to startFiler instead.
import type { FilerConfig } from './config/config.js';
import { frontdoorExtension } from './frontdoor/index.js';
import type { FilerExtension } from './model.js';

export function builtInExtensions(config: FilerConfig): FilerExtension[] {
  return [frontdoorExtension({ stateDir: config.stateDir })];
}
