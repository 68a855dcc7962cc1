/**
 * The gate every entry of a driver package passes before anything is copied: paths that leave the
 * package, links, special files, duplicates by NTFS rules, and the size and count limits.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEntryGate, normalizeEntryPath } from '../../../../src/core/drivers/package-entries.ts';
import type { PackageEntry, PackageLimits } from '../../../../src/core/drivers/package-entries.ts';
import { RecoveryError } from '../../../../src/core/errors.ts';

function refusal(fn: () => unknown): { reason: unknown; message: string } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RecoveryError);
    const err = e as RecoveryError;
    expect(err.code).toBe('drivers.package-refused');
    return { reason: err.data.reason, message: err.message };
  }
  throw new Error('expected a refusal');
}

const file = (path: string, size = 10): PackageEntry => ({ path, type: 'file', size });

describe('normalizeEntryPath', () => {
  it.each([
    ['viostor.inf', 'viostor.inf'],
    ['./viostor/w10/amd64/viostor.inf', 'viostor/w10/amd64/viostor.inf'],
    ['amd64\\viostor.sys', 'amd64/viostor.sys'],
    ['a//b/./c/', 'a/b/c'],
    ['./', ''],
  ])('keeps %s inside as %s', (raw, normalized) => {
    expect(normalizeEntryPath(raw)).toBe(normalized);
  });

  it.each([
    ['../evil.sys', 'path-traversal'],
    ['a/../../evil.sys', 'path-traversal'],
    ['a/../b.sys', 'path-traversal'],
    ['..\\..\\Windows\\System32\\evil.dll', 'path-traversal'],
    ['/etc/passwd', 'absolute-path'],
    ['\\Windows\\evil.sys', 'absolute-path'],
    ['C:\\Windows\\evil.sys', 'absolute-path'],
    ['c:evil.sys', 'absolute-path'],
    ['a/file.sys:stream', 'bad-path'],
    ['a\0b', 'bad-path'],
  ])('refuses %s (%s)', (raw, reason) => {
    expect(refusal(() => normalizeEntryPath(raw)).reason).toBe(reason);
  });

  it('never returns a path with a ".." segment or a leading separator, whatever the input', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom('a', 'B', '..', '.', '/', '\\', 'C:', ':', ' ', '\0'), { maxLength: 12 }), (parts) => {
      let out: string;
      try {
        out = normalizeEntryPath(parts.join(''));
      } catch (e) {
        return (e as RecoveryError).code === 'drivers.package-refused';
      }
      return !out.split('/').includes('..') && !out.startsWith('/') && !out.includes('\\') && !out.includes(':');
    }));
  });
});

describe('createEntryGate', () => {
  const small: PackageLimits = { maxEntries: 4, maxFileBytes: 100, maxTotalBytes: 250, maxInfBytes: 50 };

  it('admits folders and files and remembers the files with their sizes', () => {
    const gate = createEntryGate(small);
    expect(gate.admit({ path: './', type: 'directory', size: 0 })).toBe('');
    expect(gate.admit({ path: 'amd64/', type: 'directory', size: 0 })).toBe('amd64');
    expect(gate.admit(file('amd64\\viostor.inf', 40))).toBe('amd64/viostor.inf');
    expect(gate.admit(file('amd64/viostor.sys', 100))).toBe('amd64/viostor.sys');
    expect(gate.files).toEqual([{ path: 'amd64/viostor.inf', size: 40 }, { path: 'amd64/viostor.sys', size: 100 }]);
    expect(gate.totalBytes).toBe(140);
  });

  it('refuses a symbolic link that points out of the package, saying so', () => {
    const gate = createEntryGate();
    const r = refusal(() => gate.admit({ path: 'pkg/evil.sys', type: 'symlink', size: 0, linkTarget: '../../etc/shadow' }));
    expect(r.reason).toBe('link');
    expect(r.message).toContain('outside the package');
  });

  it('refuses absolute and hard links too, and even a link that stays inside', () => {
    const gate = createEntryGate();
    expect(refusal(() => gate.admit({ path: 'a.sys', type: 'symlink', size: 0, linkTarget: '/etc/passwd' })).message).toContain('outside the package');
    expect(refusal(() => gate.admit({ path: 'b.sys', type: 'hardlink', size: 0, linkTarget: '../x' })).message).toContain('outside the package');
    const inside = refusal(() => gate.admit({ path: 'd/c.sys', type: 'symlink', size: 0, linkTarget: '../a.sys' }));
    expect(inside.reason).toBe('link');
    expect(inside.message).toContain('plain files');
  });

  it('refuses devices and FIFOs', () => {
    expect(refusal(() => createEntryGate().admit({ path: 'dev', type: 'other', size: 0 })).reason).toBe('special-file');
  });

  it('refuses two entries NTFS would see as one', () => {
    const gate = createEntryGate();
    gate.admit(file('Viostor.sys'));
    expect(refusal(() => gate.admit(file('./viostor.SYS'))).reason).toBe('duplicate-path');
  });

  it('refuses a file over the per-file limit, an INF over the INF limit, and the entry that passes the total', () => {
    expect(refusal(() => createEntryGate(small).admit(file('big.sys', 101))).reason).toBe('file-too-large');
    expect(refusal(() => createEntryGate(small).admit(file('big.INF', 51))).reason).toBe('inf-too-large');
    const gate = createEntryGate(small);
    gate.admit(file('a.sys', 100));
    gate.admit(file('b.sys', 100));
    const r = refusal(() => gate.admit(file('c.sys', 51)));
    expect(r.reason).toBe('package-too-large');
    expect(gate.files.map((f) => f.path)).toEqual(['a.sys', 'b.sys']);
  });

  it('refuses the entry after the last one allowed', () => {
    const gate = createEntryGate(small);
    for (const name of ['a', 'b', 'c', 'd']) gate.admit(file(name, 1));
    expect(refusal(() => gate.admit(file('e', 1))).reason).toBe('too-many-entries');
  });

  it('refuses a size that is not a whole number of bytes', () => {
    expect(refusal(() => createEntryGate().admit(file('x.sys', -1))).reason).toBe('bad-path');
    expect(refusal(() => createEntryGate().admit(file('x.sys', Number.NaN))).reason).toBe('bad-path');
  });
});
