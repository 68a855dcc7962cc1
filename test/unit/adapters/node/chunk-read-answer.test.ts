/** The agent's check of a chunk-read answer: lengths header against body, before any blob is used. */
import { describe, expect, it } from 'vitest';
import { ChunkReadSplitter } from '../../../../src/adapters/node/http-backup-server.ts';
import { thrownCode } from '../../../helpers/error-code.ts';

const body = new Uint8Array([1, 2, 3, 4, 5, 6]);

/** The blobs of a whole answer given in one piece. */
function splitChunkRead(bytes: Uint8Array, lengthsHeader: string | undefined, expected: number): Uint8Array[] {
  const splitter = new ChunkReadSplitter(lengthsHeader, expected);
  splitter.write(bytes);
  return splitter.end();
}

describe('splitChunkRead', () => {
  it('splits the body at the listed lengths, in order (an empty blob included)', () => {
    expect(splitChunkRead(body, '1,0,2,3', 4).map((b) => [...b])).toEqual([[1], [], [2, 3], [4, 5, 6]]);
    expect(splitChunkRead(body, '6', 1).map((b) => [...b])).toEqual([[1, 2, 3, 4, 5, 6]]);
  });

  it('gives the same blobs whatever pieces the body arrives in', () => {
    const lengths = [5, 0, 1, 300, 7, 0];
    const all = new Uint8Array(lengths.reduce((a, b) => a + b, 0)).map((_, i) => (i * 31) & 0xff);
    const whole = splitChunkRead(all, lengths.join(','), lengths.length).map((b) => [...b]);
    for (const pieceSize of [1, 2, 3, 7, 64, 313]) {
      const splitter = new ChunkReadSplitter(lengths.join(','), lengths.length);
      for (let at = 0; at < all.length; at += pieceSize) splitter.write(all.subarray(at, at + pieceSize));
      const blobs = splitter.end();
      expect(blobs.map((b) => [...b])).toEqual(whole);
      // Each blob is an array of its own, not a view into the answer.
      expect(blobs.every((b) => b.byteOffset === 0 && b.buffer.byteLength === b.length)).toBe(true);
    }
  });

  it('refuses a header announcing more than one answer may carry, before any byte', () => {
    expect(thrownCode(() => new ChunkReadSplitter(`${16 * 1024 * 1024},1`, 2))).toBe('protocol.bad-answer');
  });

  it.each([
    ['no header', undefined, 2],
    ['fewer lengths than chunks asked for', '6', 2],
    ['more lengths than chunks asked for', '2,2,2', 2],
    ['lengths adding up to less than the body', '2,3', 2],
    ['lengths adding up to more than the body', '3,4', 2],
    ['a length that is not a number', '3,x', 2],
    ['a negative length', '-1,7', 2],
    ['an empty header', '', 1],
  ])('refuses an answer with %s as protocol.bad-answer', (_what, header, expected) => {
    expect(thrownCode(() => splitChunkRead(body, header, expected))).toBe('protocol.bad-answer');
  });
});
