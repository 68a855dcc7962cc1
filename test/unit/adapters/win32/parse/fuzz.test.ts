/**
 * Every tool-output parser survives what a localized, truncated or garbled console may hand it:
 * random text, text built from the tokens tool output is made of, and mutated captured outputs.
 * No exception and a result of the promised shape (a hang would run into the test's time-out).
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { parseBcdeditCreated, parseBcdeditEnum } from '../../../../../src/adapters/win32/parse/bcdedit.ts';
import { parseDetailDisk } from '../../../../../src/adapters/win32/parse/diskpart-detail-disk.ts';
import { parseListDisk, parseListPartition, parseListVolume } from '../../../../../src/adapters/win32/parse/diskpart-list.ts';
import { diskpartOutcome } from '../../../../../src/adapters/win32/parse/diskpart-outcome.ts';
import { parseDismAddDriver, parseDismDrivers, parseDismError } from '../../../../../src/adapters/win32/parse/dism.ts';
import { parseDrvload } from '../../../../../src/adapters/win32/parse/drvload.ts';
import { parseIpconfigAll } from '../../../../../src/adapters/win32/parse/ipconfig.ts';
import { parseRegQuery } from '../../../../../src/adapters/win32/parse/reg-query.ts';
import { TOOL_FIXTURES, toolOutput } from '../tool-fixtures.ts';

const RUNS = 10_000;

const fixtures = TOOL_FIXTURES.map(toolOutput);

const tokens = fc.constantFrom(
  ' ', '  ', '    ', '\n', '\r\n', '\t', '-', '---', '--------', '*', ':', ' : ', ' :', '.', '. . .', '|', ' | ', ',', '{', '}', '\\', '"', '#', '## ',
  'Disk 0', 'Volume 1', 'Partition 2', '238 GB', '0 B', '1024 KB', 'Online', 'Healthy', 'Published Name', 'Error: 87', 'Error: 0x800f081f',
  'identifier', 'Windows Boot Loader', 'partition=C:', 'HKEY_LOCAL_MACHINE\\X', 'REG_SZ', 'REG_DWORD', 'REG_BINARY', 'REG_MULTI_SZ', '0x1',
  'Ethernet adapter Ethernet:', 'IPv4 Address', '(Preferred)', 'DrvLoad: ', 'Virtual Disk Service error:', 'DiskPart has encountered an error',
  'Installing 1 of 1 - ', 'Found 1 driver package(s) to install.', 'The entry {', '}', 'x'.repeat(40), 'é€\u0000',
);
const tokenText = fc.array(tokens, { maxLength: 200 }).map((t) => t.join(''));

const mutated = fc.record({
  fixture: fc.nat({ max: fixtures.length - 1 }),
  edits: fc.array(fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), insert: fc.string({ maxLength: 8 }), remove: fc.nat({ max: 16 }) }), { maxLength: 10 }),
}).map(({ fixture, edits }) => {
  let text = fixtures[fixture]!;
  for (const e of edits) {
    const i = Math.floor(e.at * text.length);
    text = text.slice(0, i) + e.insert + text.slice(i + e.remove);
  }
  return text;
});

const input = fc.oneof(fc.string({ maxLength: 600 }), fc.string({ unit: 'binary', maxLength: 300 }), tokenText, mutated);

/** Each parser and a check that its result has the promised shape. */
const PARSERS: [string, (text: string) => boolean][] = [
  ['parseListDisk', (t) => parseListDisk(t).every((d) => Number.isInteger(d.number) && typeof d.gpt === 'boolean')],
  ['parseListPartition', (t) => parseListPartition(t).every((p) => typeof p.type === 'string')],
  ['parseListVolume', (t) => parseListVolume(t).every((v) => v.letter === undefined || /^[A-Z]:$/.test(v.letter))],
  ['parseDetailDisk', (t) => Array.isArray(parseDetailDisk(t).volumes)],
  ['diskpartOutcome', (t) => { const o = diskpartOutcome({ exitCode: 0, stdout: t }); return o.ok === (o.errors.length === 0); }],
  ['parseDismDrivers', (t) => parseDismDrivers(t).drivers.every((d) => typeof d.publishedName === 'string')],
  ['parseDismAddDriver', (t) => parseDismAddDriver(t).packages.every((p) => p.index >= 0)],
  ['parseDismError', (t) => { const e = parseDismError(t); return e === undefined || /^(0x[0-9a-f]+|\d+)$/i.test(e.code); }],
  ['parseBcdeditEnum', (t) => parseBcdeditEnum(t).every((e) => e.order.length > 0)],
  ['parseBcdeditCreated', (t) => { const g = parseBcdeditCreated(t); return g === undefined || g.length === 38; }],
  ['parseIpconfigAll', (t) => Array.isArray(parseIpconfigAll(t).adapters)],
  ['parseRegQuery', (t) => parseRegQuery(t).keys.every((k) => Array.isArray(k.values))],
  ['parseDrvload', (t) => { const r = parseDrvload(t); return Array.isArray(r.loaded) && Array.isArray(r.failures); }],
];

describe('tool-output parser fuzz', () => {
  it.each(PARSERS)(`%s survives ${RUNS} random and mutated outputs`, (_name, parse) => {
    fc.assert(fc.property(input, (text) => parse(text)), { numRuns: RUNS });
  });
});
