/**
 * The INF parser and the ranking over it survive what a driver folder on a USB stick may hold:
 * random bytes, random INF-ish text and mutated real INFs. No exception, and a result of the
 * promised shape (a hang would run into the test's time-out).
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { devicesFor, isBootCritical, parseInf } from '../../../../src/core/drivers/inf.ts';
import { rankDrivers } from '../../../../src/core/drivers/match.ts';
import { INF_FIXTURES, infBytes } from './inf-fixtures.ts';

const RUNS = 10_000;

const fixtures = INF_FIXTURES.map(infBytes);

/** Bytes that look like INF text: section brackets, quotes, separators, continuations, tokens. */
const infAlphabet = fc.constantFrom(...'[]";,=%\\\r\n \t$abcNT.x_0123'.split(''), '%%', '""', '\\\r\n', '[Strings]\n', '[Manufacturer]\n', '[Version]\n');
const infText = fc.array(infAlphabet, { maxLength: 400 }).map((parts) => parts.join(''));

const mutation = fc.record({
  fixture: fc.nat({ max: fixtures.length - 1 }),
  edits: fc.array(fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), byte: fc.nat({ max: 255 }), cut: fc.boolean() }), { maxLength: 12 }),
});

function mutate(source: Uint8Array, edits: readonly { at: number; byte: number; cut: boolean }[]): Uint8Array {
  let out = source.slice();
  for (const e of edits) {
    const i = Math.min(out.length - 1, Math.floor(e.at * out.length));
    if (e.cut) out = out.subarray(0, i);
    else if (i >= 0) out[i] = e.byte;
  }
  return out;
}

/** Parses, lists devices and ranks; true when every answer has the promised shape. */
function exercise(input: Uint8Array | string): boolean {
  const inf = parseInf(input);
  const devices = devicesFor(inf, { arch: 'amd64' });
  const flags = devices.map((device) => isBootCritical(inf, device, 'amd64'));
  const ranked = rankDrivers({ hardwareIds: ['PCI\\VEN_1AF4&DEV_1001'], compatibleIds: ['PCI\\CC_0100'] }, [{ source: 'x', inf }], { arch: 'amd64' });
  return Array.isArray(devices) && flags.every((f) => typeof f === 'boolean') && Array.isArray(ranked);
}

describe('INF parser fuzz', () => {
  it(`survives ${RUNS} random byte strings`, () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
      return exercise(bytes);
    }), { numRuns: RUNS });
  });

  it(`survives ${RUNS} random INF-like texts`, () => {
    fc.assert(fc.property(infText, (text) => {
      return exercise(text);
    }), { numRuns: RUNS });
  });

  it(`survives ${RUNS} mutated real INFs`, () => {
    fc.assert(fc.property(mutation, ({ fixture, edits }) => {
      return exercise(mutate(fixtures[fixture]!, edits));
    }), { numRuns: RUNS });
  });
});
