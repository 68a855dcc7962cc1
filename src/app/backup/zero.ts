/** True when every byte is zero: such blocks become zero extents and are never stored. */
export function isAllZero(bytes: Uint8Array): boolean {
  // Word-wise where the view is aligned (device reads are): four bytes per comparison.
  const words = bytes.byteOffset % 4 === 0 ? Math.floor(bytes.length / 4) : 0;
  if (words > 0) {
    const view = new Uint32Array(bytes.buffer, bytes.byteOffset, words);
    for (let i = 0; i < view.length; i++) if (view[i] !== 0) return false;
  }
  for (let i = words * 4; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}
