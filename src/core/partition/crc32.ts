/**
 * IEEE 802.3 CRC-32 (reflected polynomial 0xEDB88320), as zlib and the UEFI spec (§5.3.2, GPT
 * header and entry-array CRCs) use it. Check value: crc32("123456789") = 0xCBF43926.
 * Table-driven and pure so core needs no node:zlib.
 */

const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) {
      c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    }
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC-32 of `bytes`. `initial` is the CRC of the preceding data (zlib's crc32(crc, buf) chaining),
 * so crc32(b, crc32(a)) === crc32(a ++ b).
 */
export function crc32(bytes: Uint8Array, initial = 0): number {
  let crc = ~initial >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    crc = (TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8)) >>> 0;
  }
  return ~crc >>> 0;
}
