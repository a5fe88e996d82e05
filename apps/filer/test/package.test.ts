import { describe, expect, it } from 'vitest';
import { kFilerPackage } from '../src/index.js';

describe('@avscan/filer', () => {
  it('builds and loads', () => {
    expect(kFilerPackage).toBe('@avscan/filer');
  });
});
