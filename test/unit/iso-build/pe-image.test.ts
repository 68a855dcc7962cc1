/**
 * The PE edits of the exe build on small images made here (a forwarder DLL, with and without an
 * appended certificate table): checksums checked against osslsigncode's own calculation, the
 * signature strip against the layout rules. The real node.exe is checked in
 * test/integration/iso/exe-build.test.ts.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peChecksum, readPeLayout, stripSignature, withChecksum } from '../../../iso-build/steps/pe-image.ts';
import { forwarderDll } from '../../helpers/forwarder-dll.ts';
import { runTool, tempDir } from '../../helpers/run.ts';

const dll = () => forwarderDll('bcryptprimitives.dll', { ProcessPrng: 'advapi32.SystemFunction036' });

/** The image with `certificate` appended as its (8-byte aligned) certificate table. */
function signed(image: Uint8Array, certificate: Uint8Array): Uint8Array {
  const out = new Uint8Array(image.length + certificate.length);
  out.set(image);
  out.set(certificate, image.length);
  const view = new DataView(out.buffer);
  const { certificateDirectory } = readPeLayout(out);
  view.setUint32(certificateDirectory, image.length, true);
  view.setUint32(certificateDirectory + 4, certificate.length, true);
  return withChecksum(out);
}

const storedChecksum = (image: Uint8Array) => new DataView(image.buffer, image.byteOffset).getUint32(readPeLayout(image).checksumOffset, true);

let dir: { path: string; cleanup: () => Promise<void> };
beforeAll(async () => { dir = await tempDir('lifeline-pe-'); });
afterAll(() => dir.cleanup());

/** osslsigncode's view of the checksum: { current, calculated } (one value when they agree). */
async function osslChecksum(image: Uint8Array): Promise<{ current: number; calculated: number } | undefined> {
  const file = join(dir.path, `pe-${Math.random().toString(36).slice(2)}.dll`);
  await writeFile(file, image);
  const result = await runTool('osslsigncode', ['verify', '-in', file]).catch(() => undefined);
  if (result === undefined) return undefined;
  const text = result.stdout + result.stderr;
  const same = /^PE checksum\s*:\s*([0-9A-F]{8})/m.exec(text);
  if (same) return { current: Number.parseInt(same[1]!, 16), calculated: Number.parseInt(same[1]!, 16) };
  const current = /Current PE checksum\s*:\s*([0-9A-F]{8})/.exec(text);
  const calculated = /Calculated PE checksum\s*:\s*([0-9A-F]{8})/.exec(text);
  if (!current || !calculated) throw new Error(`unexpected osslsigncode output: ${text}`);
  return { current: Number.parseInt(current[1]!, 16), calculated: Number.parseInt(calculated[1]!, 16) };
}

describe('PE checksum', () => {
  it('matches what osslsigncode calculates, before and after it is written', async (ctx) => {
    const raw = dll();
    const before = await osslChecksum(raw);
    if (before === undefined) ctx.skip('osslsigncode is not installed');
    expect(before).toEqual({ current: 0, calculated: peChecksum(raw) });
    const fixed = withChecksum(raw);
    expect(await osslChecksum(fixed)).toEqual({ current: peChecksum(raw), calculated: peChecksum(raw) });
    const withCert = signed(raw, new Uint8Array(24).fill(0xa5));
    expect((await osslChecksum(withCert))?.calculated).toBe(storedChecksum(withCert));
  });

  it('does not depend on the stored checksum, and changes with any other byte', () => {
    fc.assert(fc.property(fc.nat(), fc.integer({ min: 0x200, max: 0x3ff }), fc.integer({ min: 1, max: 255 }), (stored, at, delta) => {
      const image = dll();
      const base = peChecksum(image);
      new DataView(image.buffer).setUint32(readPeLayout(image).checksumOffset, stored, true);
      expect(peChecksum(image)).toBe(base);
      image[at] = (image[at]! + delta) & 0xff;
      expect(peChecksum(image)).not.toBe(base);
    }));
  });
});

describe('stripSignature', () => {
  it('cuts the certificate table off, zeroes its directory entry and fixes the checksum', () => {
    const raw = dll();
    const withCert = signed(raw, new Uint8Array(40).fill(7));
    expect(readPeLayout(withCert)).toMatchObject({ certificateOffset: raw.length, certificateSize: 40 });
    const stripped = stripSignature(withCert);
    expect(stripped.length).toBe(raw.length);
    expect(readPeLayout(stripped)).toMatchObject({ certificateOffset: 0, certificateSize: 0 });
    expect(stripped).toEqual(withChecksum(raw));
  });

  it('leaves an unsigned image alone', () => {
    const raw = withChecksum(dll());
    expect(stripSignature(raw)).toBe(raw);
  });

  it('refuses a certificate table that is not at the end of the file', () => {
    const withCert = signed(dll(), new Uint8Array(16));
    const longer = new Uint8Array(withCert.length + 64);
    longer.set(withCert);
    expect(() => stripSignature(longer)).toThrow(/not at the end/);
  });

  it('refuses files that are not PE images', () => {
    expect(() => readPeLayout(new Uint8Array(512))).toThrow(/no MZ header/);
    const mz = dll();
    mz[0x40] = 0;
    expect(() => readPeLayout(mz)).toThrow(/no PE signature/);
  });
});
