// Public API of @avscan/filer: the storage filer emulator (issue 10). Filled in as the app lands.
export const kFilerPackage = '@avscan/filer';
export type { FilerExtension, FilerRuntime, ShareModel, SvmModel, VolumeModel } from './model.js';
export { FilerError, FilerErrorCodes } from './errors.js';
export type { FilerErrorCode } from './errors.js';
export { accessOf, pathComponents, resolveInVolume, kMaxComponent, kMaxPathBytes } from './paths.js';
export type { AccessExtras, ResolvedPath } from './paths.js';
export { createStaticRuntime, kDefaultCifsPolicy } from './runtime/static.js';
export type { StaticRuntime, StaticRuntimeOptions, StaticShare, StaticSvm, StaticVolume } from './runtime/static.js';
// --- on-demand jobs, schedules, reports, audit (issue 11 back end) ---
export { openAppDb, kAppSchemaVersion } from './db/app-db.js';
export { fileJob, kOnDemandDefaults, onefsJob, onefsPath, ontapJob } from './jobs/spec.js';
export type { JobRoot, JobSpec, OnefsJob, OntapOnDemandPolicy } from './jobs/spec.js';
export { createJobManager, JobManager, responseOf } from './jobs/runner.js';
export type { JobCounters, JobInfection, JobManagerOptions, JobState, JobStatus } from './jobs/runner.js';
export { countFiles, walkFiles } from './jobs/walk.js';
export type { Position, WalkItem, WalkRoot } from './jobs/walk.js';
export { cronOfFields, cronOfOnefs, cronOfOntap, kOntapSchedules } from './schedule/parse.js';
export type { CronFields, ScheduleInput } from './schedule/parse.js';
export { checkOneScheduledPerSvm, createScheduler, JobScheduler, scheduleJob } from './schedule/scheduler.js';
export type { ScheduledEntry, SchedulerOptions } from './schedule/scheduler.js';
export { startOnAccessCounter, utcDay } from './reports/counter.js';
export type { OnAccessCounter, OnAccessCounterOptions } from './reports/counter.js';
export { buildDailyReport, dailyReportId, scheduleDailyReport } from './reports/daily.js';
export { formatReport, writeReportFile } from './reports/file.js';
export { getReport, listReports, listThreats, toOnefsScanReport, toOnefsThreats } from './reports/query.js';
