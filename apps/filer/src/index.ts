// Public API of @avscan/filer: the storage filer emulator (issue 10). Filled in as the app lands.
export const kFilerPackage = '@avscan/filer';
export type { FilerRuntime, ShareModel, SvmModel, VolumeModel } from './model.js';
