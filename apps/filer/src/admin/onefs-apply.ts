// One OneFS write that changes several zones' documents (settings, servers) is all or nothing: the
// change is computed on every zone's copy first (ONTAP's rules refuse before anything is saved); if a
// zone's save still fails (the dispatcher's own checks run at save), the zones already changed get
// their previous document back.
import type { ManagedRuntime } from '../runtime/managed.js';
import type { VscanDoc } from '../vscan/model.js';
import type { SvmContext } from '../vscan/ops.js';

export async function changeZones(rt: ManagedRuntime, zones: readonly string[], change: (doc: VscanDoc, ctx: SvmContext) => VscanDoc): Promise<void> {
  for (const z of zones) change(rt.vscan(z), rt.context(z));
  const done: Array<[string, VscanDoc]> = [];
  try {
    for (const z of zones) {
      const before = rt.vscan(z);
      await rt.mutate(z, change);
      done.push([z, before]);
    }
  } catch (err) {
    for (const [z, before] of done.reverse()) await rt.mutate(z, () => before).catch(() => undefined);
    throw err;
  }
}
