// Report expiry (OneFS `report_expiry`, seconds): reports that started longer ago than that are
// deleted, running ones never. Run hourly by the admin services and at once when the setting changes.
import type { FilerStore } from '../model.js';

/** Pages read per sweep at most (1000 reports each): a sweep is bounded; the next one goes on. */
const kMaxPages = 100;

/** Deletes the finished reports that started before `now - expirySeconds`; resolves with how many. */
export async function sweepExpiredReports(store: FilerStore, expirySeconds: number, now: number = Date.now()): Promise<number> {
  const until = now - expirySeconds * 1000;
  let deleted = 0;
  for (let page = 0; page < kMaxPages; page++) {
    // Deleting shifts the pages: always read the first page of what is still old and finished.
    const old = (await store.listReports({ until, maxRecords: 1000 })).records.filter((r) => r.state !== 'running' && r.startTime < until);
    if (old.length === 0) break;
    for (const r of old) if (await store.deleteReport(r.id)) deleted++;
  }
  return deleted;
}
