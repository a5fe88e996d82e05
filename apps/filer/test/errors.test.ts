import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { FilerErrorCodes } from '../src/index.js';

it('the README errors table lists exactly the codes of the catalog', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Errors'));
  const documented = [...section.matchAll(/^\| `(ERR_FILER_[A-Z_]+)` \|/gm)].map((m) => m[1]).sort();
  expect(documented).toEqual(Object.values(FilerErrorCodes).sort());
});
