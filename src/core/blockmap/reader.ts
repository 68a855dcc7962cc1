/** How block maps get bytes: the caller's reader, so the maps stay pure and work on any device. */
import { RecoveryError } from '../errors.ts';

/**
 * Reads `length` bytes at `offset` (bytes from the partition start). Block maps ask for arbitrary
 * offsets and lengths (a 1 KiB MFT record, a 512-byte boot sector); a device that needs aligned
 * I/O is wrapped with `alignedReader`. Block maps never read past the partition end.
 */
export type ByteReader = (offset: bigint, length: number) => Promise<Uint8Array>;

/** Reads exactly `length` bytes at `offset`; a short answer is an error, not a silent hole. */
export async function readExact(read: ByteReader, offset: bigint, length: number): Promise<Uint8Array> {
  const bytes = await read(offset, length);
  if (bytes.length !== length) {
    throw new RecoveryError('blockmap.read-short', `Read of ${length} bytes at ${offset} returned ${bytes.length}`, {
      data: { offset: offset.toString(), length, got: bytes.length },
    });
  }
  return bytes;
}

/**
 * Wraps a reader that only accepts `alignment`-multiple offsets and lengths (a BlockDevice with
 * 512- or 4096-byte sectors): each request is widened to whole units and the asked-for bytes cut out.
 */
export function alignedReader(read: ByteReader, alignment: number): ByteReader {
  if (!Number.isInteger(alignment) || alignment <= 0) {
    throw new RecoveryError('blockmap.extent-invalid', `alignment must be a positive integer, got ${alignment}`, { data: { alignment } });
  }
  const unit = BigInt(alignment);
  return async (offset, length) => {
    const start = (offset / unit) * unit;
    const end = ((offset + BigInt(length) + unit - 1n) / unit) * unit;
    if (start === offset && end - start === BigInt(length)) return read(offset, length);
    const bytes = await readExact(read, start, Number(end - start));
    const from = Number(offset - start);
    return bytes.subarray(from, from + length);
  };
}
