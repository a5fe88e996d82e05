// The clamd front door as a filer extension: the management server starts it with the runtime and
// closes it before the runtime shuts down.
import type { FilerExtension } from '../model.js';
import type { FrontdoorOptions } from './options.js';
import { startFrontdoor } from './server.js';

export function frontdoorExtension(options: FrontdoorOptions): FilerExtension {
  return {
    name: 'clamd-frontdoor',
    start: (runtime) => startFrontdoor(runtime, options),
  };
}

export { startFrontdoor } from './server.js';
export type { Frontdoor, FrontdoorStats } from './server.js';
export { kFrontdoorVersion, resolveFrontdoorOptions } from './options.js';
export type { FrontdoorOptions, ResolvedFrontdoorOptions } from './options.js';
export { locate } from './locate.js';
export type { Located } from './locate.js';
export { replyOf } from './reply.js';
export type { Reply, ReplyKind } from './reply.js';
