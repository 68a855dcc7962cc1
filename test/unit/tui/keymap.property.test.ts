// Random key sequences, interleaved with random reports from the controller, never throw, keep
// focus on an existing control (a dialog's, when one is open), and keep the screen within 80×25.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KEYMAP, applyKey } from '../../../src/tui/keymap.ts';
import { initialApp, reduceApp, type AppAction, type AppState } from '../../../src/tui/state/app-state.ts';
import type { Effect } from '../../../src/tui/state/effects.ts';
import { focusIsValid } from '../../../src/tui/state/focus.ts';
import { KEY_CONTEXTS } from '../../../src/tui/state/key-actions.ts';
import { SCREEN_COLUMNS, SCREEN_ROWS, renderScreen } from '../../../src/tui/state/screen-text.ts';
import { textWidth } from '../../../src/tui/state/text-width.ts';

const boundKeys = [...new Set(KEY_CONTEXTS.flatMap((c) => Object.keys(KEYMAP[c])))];
const otherKeys = ['return', 'linefeed', 'C-c', 'M-x', 'f7', 'f10', 'insert', 'delete'];
const typed = ['a', 'Z', '1', '.', ':', '/', '中', '\\'];

type Step = { readonly kind: 'key'; readonly full: string; readonly ch?: string } | { readonly kind: 'event'; readonly action: AppAction };

const keyStep: fc.Arbitrary<Step> = fc.oneof(
  fc.constantFrom(...boundKeys, ...otherKeys).map((full): Step => ({ kind: 'key', full, ...(full === 'space' ? { ch: ' ' } : {}) })),
  fc.constantFrom(...typed).map((ch): Step => ({ kind: 'key', full: ch, ch })),
);

const text = fc.string({ unit: 'grapheme', maxLength: 100, size: 'max' });
const nic = fc.record({
  name: text, mac: fc.constant('52:54:00:00:00:01'), link: fc.constantFrom('up', 'down', 'unknown'),
  ipv4: fc.array(fc.constantFrom('10.0.0.5/8', '169.254.1.1/16'), { maxLength: 3 }), ipv6: fc.array(fc.constant('fe80::1/64'), { maxLength: 2 }),
}) as fc.Arbitrary<{ name: string; mac: string; link: 'up' | 'down' | 'unknown'; ipv4: string[]; ipv6: string[] }>;
const owner = fc.constantFrom('driver-update', 'driver-tools') as fc.Arbitrary<'driver-update' | 'driver-tools'>;
const drive = fc.record({
  root: fc.constantFrom('C:\\', 'E:\\', 'X:\\'), label: text, kind: fc.constantFrom('removable', 'fixed', 'ram', 'cdrom'),
  freeBytes: fc.option(fc.integer({ min: 0, max: 2 ** 40 })), readOnly: fc.boolean(),
}) as fc.Arbitrary<{ root: string; label: string; kind: 'removable' | 'fixed' | 'ram' | 'cdrom'; freeBytes: number | null; readOnly: boolean }>;
const entry = fc.record({ name: text, kind: fc.constantFrom('dir', 'file') }) as fc.Arbitrary<{ name: string; kind: 'dir' | 'file' }>;

const events: fc.Arbitrary<AppAction> = fc.oneof(
  fc.array(nic, { maxLength: 4 }).map((nics): AppAction => ({ type: 'network/nics', nics })),
  fc.constantFrom(4, 6).map((family): AppAction => ({ type: 'network/applied', family: family as 4 | 6, interfaceName: 'x' })),
  fc.record({ name: text, id: text }).map((job): AppAction => ({ type: 'job/started', atMs: 0, job, disks: [{ key: 'd', label: job.name, bytesTotal: 1000 }] })),
  fc.integer({ min: 0, max: 2000 }).map((b): AppAction => ({ type: 'job/progress', atMs: b * 10, networkBytes: b, perDisk: [{ key: 'd', bytesDone: b }] })),
  fc.constantFrom('succeeded', 'failed', 'cancelled').map((outcome): AppAction => ({ type: 'job/finished', atMs: 1, outcome: outcome as 'failed' })),
  fc.constant<AppAction>({ type: 'job/passphrase-needed', attempt: 1 }),
  fc.array(text, { maxLength: 5 }).map((lines): AppAction => ({ type: 'job/log', lines: lines.map((t, i) => ({ atMs: i, level: 'warn', text: t })) })),
  fc.record({ id: fc.constantFrom('data', 'boot', 'other'), reason: text }).map(({ id, reason }): AppAction => ({ type: 'job/step', id, outcome: { state: 'skipped', reason } })),
  fc.constant<AppAction>({ type: 'server/certificate', fingerprint: 'ab'.repeat(32), pinned: null }),
  fc.boolean().map((bound): AppAction => ({ type: 'server/registered', bound })),
  text.map((message): AppAction => ({ type: 'server/error', code: 'server.internal', message })),
  fc.tuple(owner, fc.array(drive, { maxLength: 4 })).map(([o, drives]): AppAction => ({ type: 'browser/drives', owner: o, drives })),
  fc.tuple(owner, fc.constantFrom('C:\\', 'E:\\', 'X:\\'), fc.array(entry, { maxLength: 30 })).map(([o, path, entries]): AppAction => ({ type: 'browser/listing', owner: o, path, entries })),
  fc.tuple(owner, text).map(([o, message]): AppAction => ({ type: 'browser/failed', owner: o, path: 'E:\\', message })),
  fc.integer({ min: 0, max: 40 }).map((n): AppAction => ({
    type: 'tools/disks',
    disks: Array.from({ length: n % 5 }, (_, i) => ({
      number: i, model: 'Disk', sizeBytes: BigInt(n) * 2n ** 30n, logicalSectorSize: 512, physicalSectorSize: 4096, bus: 'NVMe', style: 'gpt',
      partitions: Array.from({ length: n % 7 }, (_p, k) => ({ number: k + 1, sizeBytes: 2n ** 20n, type: 'Basic data', letter: null, fileSystem: 'NTFS' })),
    })),
  })),
  fc.constant<AppAction>({ type: 'shell/exited', exitCode: 0 }),
  fc.constantFrom('en', 'zh-CN').map((lang): AppAction => ({ type: 'set-language', lang: lang as 'en' })),
);

const steps = fc.array(fc.oneof({ weight: 5, arbitrary: keyStep }, { weight: 1, arbitrary: events.map((action): Step => ({ kind: 'event', action })) }), { maxLength: 80 });

function apply(app: AppState, step: Step): { state: AppState; effects: readonly Effect[] } {
  return step.kind === 'key' ? applyKey(app, step.ch === undefined ? { full: step.full } : { full: step.full, ch: step.ch }) : reduceApp(app, step.action);
}

describe('random key sequences', () => {
  it('never throw, keep focus on an existing control, and keep the screen within 80×25', () => {
    fc.assert(fc.property(steps, fc.constantFrom('en', 'zh-CN'), (sequence, lang) => {
      let app = initialApp({ lang: lang as 'en' | 'zh-CN' });
      for (const step of sequence) {
        const r = apply(app, step);
        app = r.state;
        expect(focusIsValid(app)).toBe(true);
        // Effects are plain data the controller can log or queue.
        expect(() => structuredClone(r.effects)).not.toThrow();
        const rows = renderScreen(app);
        expect(rows.length).toBeLessThanOrEqual(SCREEN_ROWS);
        for (const row of rows) expect(textWidth(row)).toBeLessThanOrEqual(SCREEN_COLUMNS);
      }
    }), { numRuns: 250 });
  });

  it('only keys in the table change the state outside text fields', () => {
    fc.assert(fc.property(fc.constantFrom(...otherKeys), (full) => {
      const onButton = applyKey(initialApp(), { full: 'tab' }).state;
      const atApply = [1, 2, 3].reduce((a) => applyKey(a, { full: 'tab' }).state, onButton);
      expect(applyKey(atApply, { full }).state).toBe(atApply);
    }));
  });
});
