/**
 * The two PE edits the exe build needs, on the file's bytes (Microsoft PE/COFF specification):
 *  - drop the Authenticode signature of the official node.exe before postject changes the file:
 *    the certificate table would no longer match, and postject would keep a stale pointer to it;
 *  - recompute the optional header CheckSum after injection (user-mode Windows ignores it, but
 *    tools that check it then see a consistent file).
 *   off   field
 *   0x3C  e_lfanew → "PE\0\0", COFF header (20 bytes), optional header
 *   opt+0    Magic 0x20B (PE32+) / 0x10B (PE32)
 *   opt+64   CheckSum
 *   opt+144  PE32+ data directory 4 (Certificate Table): file offset, size   (PE32: opt+128)
 */

export interface PeLayout {
  readonly optionalHeader: number;
  readonly checksumOffset: number;
  readonly certificateDirectory: number;
  readonly certificateOffset: number;
  readonly certificateSize: number;
}

export function readPeLayout(image: Uint8Array): PeLayout {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  if (image.length < 0x40 || view.getUint16(0, true) !== 0x5a4d) throw new Error('not a PE file: no MZ header');
  const pe = view.getUint32(0x3c, true);
  if (pe + 24 > image.length || view.getUint32(pe, true) !== 0x00004550) throw new Error('not a PE file: no PE signature');
  const optionalHeader = pe + 24;
  const magic = view.getUint16(optionalHeader, true);
  if (magic !== 0x20b && magic !== 0x10b) throw new Error(`unknown optional header magic 0x${magic.toString(16)}`);
  const certificateDirectory = optionalHeader + (magic === 0x20b ? 144 : 128);
  return {
    optionalHeader,
    checksumOffset: optionalHeader + 64,
    certificateDirectory,
    certificateOffset: view.getUint32(certificateDirectory, true),
    certificateSize: view.getUint32(certificateDirectory + 4, true),
  };
}

/** The PE checksum: 16-bit one's-complement-style sum of the file (CheckSum field as 0) plus its length. */
export function peChecksum(image: Uint8Array): number {
  const { checksumOffset } = readPeLayout(image);
  let sum = 0;
  for (let i = 0; i < image.length; i += 2) {
    if (i === checksumOffset || i === checksumOffset + 2) continue;
    sum += image[i]! | ((image[i + 1] ?? 0) << 8);
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  sum = (sum & 0xffff) + (sum >>> 16);
  return (sum + image.length) >>> 0;
}

export function withChecksum(image: Uint8Array): Uint8Array {
  const out = image.slice();
  new DataView(out.buffer).setUint32(readPeLayout(out).checksumOffset, peChecksum(out), true);
  return out;
}

/**
 * The image without its certificate table: the directory entry zeroed, the table (which sits at
 * the end of the file, 8-byte aligned) cut off, and the checksum recomputed. Unsigned input is
 * returned unchanged.
 */
export function stripSignature(image: Uint8Array): Uint8Array {
  const layout = readPeLayout(image);
  if (layout.certificateSize === 0) return image;
  const end = layout.certificateOffset + layout.certificateSize;
  if (layout.certificateOffset === 0 || end > image.length || image.length - end >= 8) {
    throw new Error(`the certificate table (${layout.certificateOffset}+${layout.certificateSize}) is not at the end of the ${image.length}-byte file`);
  }
  const out = image.slice(0, layout.certificateOffset);
  new DataView(out.buffer).setBigUint64(layout.certificateDirectory, 0n, true);
  return withChecksum(out);
}
