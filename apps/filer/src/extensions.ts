// The extensions `npm start` loads into the filer: the data path and volume watcher (src/data), the
// clamd front door (src/frontdoor). Each part adds its FilerExtension here; embedders pass their own
// list to startFiler instead.
import type { FilerExtension } from './model.js';

export const kBuiltInExtensions: readonly FilerExtension[] = [];
