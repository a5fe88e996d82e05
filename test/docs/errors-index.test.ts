// docs/errors.md indexes every package's error codes: it must list exactly the codes of the catalogs.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { DispatchErrorCodes } from '@avscan/dispatch';
import { EngineErrorCodes } from '@avscan/engine';
import { FilerErrorCodes } from '@avscan/filer';
import { PolicyErrorCodes } from '@avscan/policy';
import { ScannerErrorCodes } from '@avscan/scanner';
import { StoreErrorCodes } from '@avscan/store';
import { StorePgErrorCodes } from '@avscan/store-pg';

const catalogs: Record<string, Record<string, string>> = {
  policy: PolicyErrorCodes, store: StoreErrorCodes, 'store-pg': StorePgErrorCodes, scanner: ScannerErrorCodes, dispatch: DispatchErrorCodes, engine: EngineErrorCodes, filer: FilerErrorCodes,
};

it('docs/errors.md lists exactly the codes of every package catalog', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  for (const [pkg, catalog] of Object.entries(catalogs)) {
    const start = doc.indexOf(`## @avscan/${pkg}`);
    expect(start, `section for ${pkg}`).toBeGreaterThan(-1);
    const next = doc.indexOf('\n## ', start + 1);
    const section = doc.slice(start, next === -1 ? undefined : next);
    const listed = [...section.matchAll(/`(ERR_[A-Z0-9_]+)`/g)].map((m) => m[1]).sort();
    expect(listed, pkg).toEqual([...new Set(Object.values(catalog))].sort());
  }
});
