// Runs on-demand jobs at their time. One croner timer per scheduled entry; a run that is still going
// when its next time comes is not started twice (croner's `protect`). The ONTAP rule that an SVM has
// at most one scheduled on-demand policy (10027255) is `checkOneScheduledPerSvm`, called by the
// configuration layer before it saves a policy.
import { Cron } from 'croner';
import { FilerError, FilerErrorCodes, show } from '../errors.js';

export interface ScheduledEntry {
  readonly key: string;
  readonly pattern: string;
  readonly next: Date | null;
  readonly lastRun: Date | null;
  readonly runs: number;
}

export interface SchedulerOptions {
  /** IANA time zone the patterns are read in. @default the process's local zone */
  readonly timezone?: string;
  /** Called when a run throws or rejects (the schedule keeps going). */
  readonly onError?: (key: string, err: unknown) => void;
}

interface Entry {
  readonly cron: Cron;
  readonly pattern: string;
  runs: number;
  lastRun: Date | null;
}

export class JobScheduler {
  readonly #entries = new Map<string, Entry>();
  readonly #o: SchedulerOptions;

  constructor(options: SchedulerOptions = {}) {
    this.#o = options;
  }

  /** Schedules `run` at `pattern` (from `cronOfOntap` / `cronOfOnefs`) under `key`, replacing an entry of that key. */
  set(key: string, pattern: string, run: () => unknown): void {
    this.remove(key);
    const entry: Entry = {
      pattern,
      runs: 0,
      lastRun: null,
      cron: new Cron(pattern, {
        legacyMode: true,
        protect: true,
        unref: true,
        ...(this.#o.timezone !== undefined ? { timezone: this.#o.timezone } : {}),
      }, async () => {
        entry.runs++;
        entry.lastRun = new Date();
        try {
          await run();
        } catch (err) {
          this.#o.onError?.(key, err);
        }
      }),
    };
    this.#entries.set(key, entry);
  }

  remove(key: string): boolean {
    const e = this.#entries.get(key);
    if (e === undefined) return false;
    e.cron.stop();
    this.#entries.delete(key);
    return true;
  }

  get(key: string): ScheduledEntry | undefined {
    const e = this.#entries.get(key);
    return e === undefined ? undefined : { key, pattern: e.pattern, next: e.cron.nextRun(), lastRun: e.lastRun, runs: e.runs };
  }

  /** Runs an entry now, as its time would (the same callback and overlap rule); false when there is none. */
  async runNow(key: string): Promise<boolean> {
    const e = this.#entries.get(key);
    if (e === undefined) return false;
    await e.cron.trigger();
    return true;
  }

  list(): ScheduledEntry[] {
    return [...this.#entries.keys()].map((k) => this.get(k)!);
  }

  stop(): void {
    for (const e of this.#entries.values()) e.cron.stop();
    this.#entries.clear();
  }
}

export function createScheduler(options?: SchedulerOptions): JobScheduler {
  return new JobScheduler(options);
}

/**
 * ONTAP allows one scheduled on-demand policy per SVM: throws ERR_FILER_SCHEDULE_CONFLICT (10027255)
 * when `candidate` has a schedule and another policy of its SVM (not itself) has one too.
 */
export function checkOneScheduledPerSvm(
  existing: readonly { readonly svm: string; readonly name: string; readonly schedule?: unknown }[],
  candidate: { readonly svm: string; readonly name: string; readonly schedule?: unknown },
): void {
  if (candidate.schedule === undefined || candidate.schedule === null) return;
  const other = existing.find((p) => p.svm === candidate.svm && p.name !== candidate.name && p.schedule !== undefined && p.schedule !== null);
  if (other !== undefined) {
    throw new FilerError(
      FilerErrorCodes.SCHEDULE_CONFLICT,
      `on-demand policy ${show(other.name)} of svm ${show(candidate.svm)} is already scheduled: one scheduled policy per svm`,
      'schedule',
      { ontapCode: 10027255 },
    );
  }
}

/**
 * Schedules an on-demand job: at each time, `spec()` describes the job afresh (the policy may have
 * changed) and it starts through `jobs`, unless the previous run of the same key is still going.
 */
export function scheduleJob<S>(
  scheduler: JobScheduler,
  jobs: { start(spec: S): { readonly id: string; readonly done: Promise<unknown> } },
  key: string,
  pattern: string,
  spec: () => S,
  onStarted?: (id: string) => void,
): void {
  let running: Promise<unknown> | null = null;
  scheduler.set(key, pattern, () => {
    if (running !== null) return;
    const { id, done } = jobs.start(spec());
    onStarted?.(id);
    running = done.finally(() => { running = null; });
  });
}
