// Public API of @avscan/filer: the storage filer emulator (issue 10).
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

export { createManagedRuntime } from './runtime/managed.js';
export type { ManagedRuntime, ManagedRuntimeOptions, ManagedSvm } from './runtime/managed.js';
export { DispatcherSlot } from './runtime/dispatcher-slot.js';
export { buildLayout } from './runtime/layout.js';
export type { Layout, LayoutSvm } from './runtime/layout.js';
export { loadConfig, readConfigFile } from './config/config.js';
export type { FilerConfig, Overrides } from './config/config.js';
export { buildApp, startServer } from './server/server.js';
export type { FilerServer, ServerOptions } from './server/server.js';
export { OntapCodes, OntapError } from './server/ontap-error.js';
export { loadOrCreateTls } from './server/tls.js';
export type { TlsFiles } from './server/tls.js';
export { kClusterVersion } from './api/routes.js';
export { main, shutdownOnSignals, startFiler, tryThis } from './main.js';
export type { RunningFiler, StartOptions } from './main.js';
export { builtInExtensions } from './extensions.js';
export type { OaPolicyDoc, OdPolicyDoc, PoolDoc, VscanDoc } from './vscan/model.js';
