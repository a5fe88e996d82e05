// Public API of @avscan/filer: the storage filer emulator (issue 10). Filled in as the app lands.
export const kFilerPackage = '@avscan/filer';
export type { FilerExtension, FilerRuntime, ShareModel, SvmModel, VolumeModel } from './model.js';
export { FilerError, FilerErrorCodes } from './errors.js';
export type { FilerErrorCode } from './errors.js';
export { accessOf, pathComponents, resolveInVolume, kMaxComponent, kMaxPathBytes } from './paths.js';
export type { AccessExtras, ResolvedPath } from './paths.js';
export { createStaticRuntime, kDefaultCifsPolicy } from './runtime/static.js';
export type { StaticRuntime, StaticRuntimeOptions, StaticShare, StaticSvm, StaticVolume } from './runtime/static.js';
export { frontdoorExtension, kFrontdoorVersion, locate, replyOf, startFrontdoor } from './frontdoor/index.js';
export type { Frontdoor, FrontdoorOptions, FrontdoorStats, Located, Reply, ReplyKind } from './frontdoor/index.js';
