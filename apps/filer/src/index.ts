// Public API of @avscan/filer: the storage filer emulator (issue 10). Filled in as the app lands.
export const kFilerPackage = '@avscan/filer';
export type { FilerExtension, FilerRuntime, ShareModel, SvmModel, VolumeModel } from './model.js';
export { FilerError, FilerErrorCodes } from './errors.js';
export type { FilerErrorCode } from './errors.js';
export { accessOf, pathComponents, resolveInVolume, kMaxComponent, kMaxPathBytes } from './paths.js';
export type { AccessExtras, ResolvedPath } from './paths.js';
export { createStaticRuntime, kDefaultCifsPolicy } from './runtime/static.js';
export type { StaticRuntime, StaticRuntimeOptions, StaticShare, StaticSvm, StaticVolume } from './runtime/static.js';
export { dataPathExtension } from './data/routes.js';
export type { DataPathOptions } from './data/routes.js';
export type { AnswerJson, DenyJson, ErrorJson } from './data/reply.js';
export type { ListEntry } from './data/files.js';
export { volumeWatcherExtension, watchVolumes } from './data/watcher.js';
export type { VolumeWatcherOptions, WatchEvent, WatcherHandle } from './data/watcher.js';
export { runCli, parseTarget, kExitDenied } from './cli/program.js';
export type { CliIo } from './cli/program.js';
