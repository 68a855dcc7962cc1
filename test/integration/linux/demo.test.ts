/**
 * The README's main command: `npm start` runs `lifeline demo`. Its screen-less variant goes through
 * the same server, sample backup, operator job and restore, and the demo's own checks (sgdisk,
 * sfdisk identity, ntfscat/mtype hashes) must all pass.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/main/cli.ts';
import { mustRun, tempDir } from '../../helpers/run.ts';

let dir: { path: string; cleanup: () => Promise<void> };
beforeAll(async () => { dir = await tempDir('lifeline-demo-'); });
afterAll(() => dir.cleanup());

describe('lifeline demo --headless', () => {
  it('backs up the sample disk, restores it onto the blank image and verifies it', async () => {
    let out = '';
    const code = await main(['demo', '--headless', '--dir', dir.path, '--port', '0'], { out: (t) => { out += `${t}\n`; }, err: (t) => { out += `${t}\n`; } });
    expect(out).toContain('Restore job: succeeded');
    expect(out).not.toContain('FAIL');
    expect(out).toMatch(/ok\s+sgdisk -v/);
    expect(code).toBe(0);
    // And independently of the demo's own checks:
    expect(await mustRun('sgdisk', ['-v', `${dir.path}/disks/blank-target.img`])).toContain('No problems found');
  }, 180_000);
});
