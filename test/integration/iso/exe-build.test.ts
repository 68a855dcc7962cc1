/**
 * lifeline.exe, built twice the way `npm run build:exe` does: byte-for-byte the same both times,
 * a well-formed PE (signature gone exactly as osslsigncode removes it, checksum valid, SEA fuse
 * set, blob inside), and — under wine — a program that starts, loads its embedded native addons
 * and terminfo, runs CLI commands against real files, and shows the recovery console in a
 * terminal (tmux) and follows keys.
 *
 * Slow (two ~15 s builds, wine start-up) and the first run fetches ~75 MB with `npm pack`, so it
 * runs only with LIFELINE_TEST_EXE=1, which `npm test` (and so CI) and `npm run test:exe` set; a
 * plain `vitest run` skips it.
 * Wine 8 (Debian 12) lacks bcryptprimitives.dll, which Windows 8+ and WinPE have and Rust-built
 * addons (lz4-napi) import; the test prefix gets a forwarder DLL for it (helpers/forwarder-dll.ts).
 */
import { spawn } from 'node:child_process';
import { mkdir, open, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildExe, DEFAULT_CACHE, REPO_ROOT } from '../../../iso-build/build-exe.ts';
import type { BuildExeResult } from '../../../iso-build/build-exe.ts';
import { SEA_FUSE } from '../../../iso-build/steps/inject.ts';
import { DEFAULT_NODE_VERSION, NODE_RUNTIMES, pinnedFiles } from '../../../iso-build/steps/inputs.ts';
import { peChecksum, readPeLayout, stripSignature } from '../../../iso-build/steps/pe-image.ts';
import { ChildProcessRunner } from '../../../src/adapters/node/child-process-runner.ts';
import { forwarderDll } from '../../helpers/forwarder-dll.ts';
import { makeGptUefiDisk } from '../../helpers/fixture-disks.ts';
import { mustRun, runTool, tempDir } from '../../helpers/run.ts';
import { hasTmux, TmuxSession } from '../../tui/tmux.ts';

const enabled = process.env.LIFELINE_TEST_EXE === '1';
if (!enabled) console.info('exe-build.test.ts skipped: set LIFELINE_TEST_EXE=1 or run `npm run test:exe` (builds lifeline.exe twice, ~1 min)');

/** A word for sh, single-quoted. */
const shellQuote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * Width of the tmux pane the console runs in. Wine 8's console (conhost) accepts
 * ENABLE_VIRTUAL_TERMINAL_PROCESSING, so node (libuv) writes blessed's escape sequences as they
 * are, but it does not interpret them: it stores every character, sequences included, in its
 * screen buffer, passes them on to the terminal, and adds a line break ("\r\n") each time that
 * buffer's cursor passes the last column. The terminal (tmux) interprets the sequences, so the
 * pane shows what a console with VT processing (Windows 10, WinPE) shows, except that each break
 * moves the rest of a row one line down or splits a sequence (at 100 columns the first screen
 * already gets six: "Command promp", "Type to" / " edit", stray "[5[3]"). A pane wider than
 * everything the console writes during the test (~1.1k characters) gets none.
 */
const CONSOLE_COLUMNS = 2000;

const packageVersion = async () => (JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe.skipIf(!enabled)('lifeline.exe', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let first: BuildExeResult;
  let second: BuildExeResult;
  let exe: Uint8Array;
  let blob: Uint8Array;

  beforeAll(async () => {
    dir = await tempDir('lifeline-exe-');
    const started = performance.now();
    first = await buildExe({ out: join(dir.path, 'a', 'lifeline.exe'), keepWork: true, log: () => undefined });
    const seconds = (performance.now() - started) / 1000;
    second = await buildExe({ out: join(dir.path, 'b', 'nested', 'lifeline.exe'), log: () => undefined });
    console.info(`lifeline.exe: ${first.bytes} bytes, node ${first.nodeVersion}, first build ${seconds.toFixed(1)} s ` +
      `(${Object.entries(first.timings).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ')}), sha256 ${first.sha256}`);
    exe = new Uint8Array(await readFile(first.exe));
    blob = new Uint8Array(await readFile(join(`${first.exe}.work`, 'lifeline.blob')));
  }, 900_000);
  afterAll(() => dir?.cleanup());

  it('is byte-for-byte the same when built again in another folder', () => {
    expect({ bundle: second.bundleSha256, blob: second.blobSha256, exe: second.sha256 })
      .toEqual({ bundle: first.bundleSha256, blob: first.blobSha256, exe: first.sha256 });
  });

  it('is the official node.exe with the blob: PE32+ x64, no certificate, valid checksum, fuse set, blob inside', () => {
    const layout = readPeLayout(exe);
    const view = new DataView(exe.buffer, exe.byteOffset);
    expect(view.getUint16(layout.optionalHeader, true)).toBe(0x20b);
    expect(view.getUint16(layout.optionalHeader - 20, true)).toBe(0x8664);
    expect(layout).toMatchObject({ certificateOffset: 0, certificateSize: 0 });
    expect(view.getUint32(layout.checksumOffset, true)).toBe(peChecksum(exe));
    const bytes = Buffer.from(exe.buffer, exe.byteOffset, exe.length);
    expect(bytes.indexOf(`${SEA_FUSE}:1`)).toBeGreaterThan(0);
    expect(bytes.indexOf(`${SEA_FUSE}:0`)).toBe(-1);
    expect(bytes.indexOf(Buffer.from(blob))).toBeGreaterThan(0);
  });

  it("removes node.exe's signature exactly as osslsigncode does", async (ctx) => {
    const runtime = NODE_RUNTIMES[DEFAULT_NODE_VERSION]!;
    const [nodeExe] = await pinnedFiles(runtime.windows, ['package/bin/node.exe'], DEFAULT_CACHE, new ChildProcessRunner());
    const theirs = join(dir.path, 'node-unsigned.exe');
    const tool = await runTool('osslsigncode', ['remove-signature', '-in', nodeExe!, '-out', theirs]).catch(() => undefined);
    if (tool === undefined) ctx.skip('osslsigncode is not installed');
    expect(tool!.exitCode).toBe(0);
    const original = new Uint8Array(await readFile(nodeExe!));
    expect(readPeLayout(original).certificateSize).toBeGreaterThan(0);
    // The official binary's stored checksum is the linker's: ours must agree with it.
    expect(peChecksum(original)).toBe(new DataView(original.buffer, original.byteOffset).getUint32(readPeLayout(original).checksumOffset, true));
    expect(Buffer.compare(Buffer.from(stripSignature(original)), await readFile(theirs))).toBe(0);
  });

  describe('under wine', () => {
    let prefix: string;
    let skipReason: string | undefined;

    /** Runs the exe under wine; stdout and stderr go to files (node under wine dies on a piped stdout). */
    async function wine(args: readonly string[]): Promise<{ code: number; out: string; err: string }> {
      const name = Math.random().toString(36).slice(2);
      const outFile = join(dir.path, `${name}.out`);
      const errFile = join(dir.path, `${name}.err`);
      const out = await open(outFile, 'w');
      const err = await open(errFile, 'w');
      try {
        const code = await new Promise<number>((resolve, reject) => {
          const child = spawn('wine', [first.exe, ...args], {
            stdio: ['ignore', out.fd, err.fd], env: { ...process.env, WINEPREFIX: prefix, WINEDEBUG: '-all', TERM: '' },
          });
          const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
          child.on('error', reject);
          child.on('exit', (c) => { clearTimeout(timer); resolve(c ?? -1); });
        });
        return { code, out: await readFile(outFile, 'utf8'), err: await readFile(errFile, 'utf8') };
      } finally {
        await out.close();
        await err.close();
      }
    }

    const winPath = (path: string) => `Z:${path.replace(/\//g, '\\')}`;

    afterAll(() => TmuxSession.killAll());

    beforeAll(async () => {
      if ((await runTool('sh', ['-c', 'command -v wine']).catch(() => undefined))?.exitCode !== 0) {
        skipReason = 'wine is not installed (apt-get install wine wine64)';
        console.info(`wine smoke test skipped: ${skipReason}`);
        return;
      }
      prefix = join(DEFAULT_CACHE, 'wineprefix-test');
      const system32 = join(prefix, 'drive_c/windows/system32');
      if (!await stat(system32).then(() => true, () => false)) {
        await mkdir(prefix, { recursive: true });
        // Node refuses to start on the default Windows version wine reports.
        await runTool('sh', ['-c', `WINEPREFIX='${prefix}' WINEDEBUG=-all wine winecfg /v win10 >/dev/null 2>&1`]);
      }
      const builtin = await stat(`/usr/lib/x86_64-linux-gnu/wine/x86_64-windows/bcryptprimitives.dll`).then(() => true, () => false);
      if (!builtin) await writeFile(join(system32, 'bcryptprimitives.dll'), forwarderDll('bcryptprimitives.dll', { ProcessPrng: 'advapi32.SystemFunction036' }));
    }, 300_000);

    it('prints the package version', async (ctx) => {
      if (skipReason) ctx.skip(skipReason);
      const r = await wine(['--version']);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out.trim()).toBe(await packageVersion());
    });

    it('loads koffi (calling kernel32), lz4-napi and blessed terminfo from its assets', async (ctx) => {
      if (skipReason) ctx.skip(skipReason);
      const r = await wine(['--runtime-check']);
      expect(r.err).toBe('');
      const check = JSON.parse(r.out) as Record<string, Record<string, unknown> | string>;
      expect(check).toMatchObject({
        version: await packageVersion(), node: `v${DEFAULT_NODE_VERSION}`, platform: 'win32', arch: 'x64',
        koffi: { pointerSize: 8, getCurrentProcessIdMatches: true },
        lz4: { compressed: true, roundTrip: true },
        // windows-ansi is not in any system terminfo: blessed read its own copy ("ansi", 8 colors) from the assets.
        blessed: { terminal: 'ansi', colors: 8, fallback: 'Terminfo parse error.' },
      });
      expect(String(check.assets)).toMatch(/\\lifeline-[0-9a-f]{16}$/);
    });

    it('lists a driver catalog made on Linux', async (ctx) => {
      if (skipReason) ctx.skip(skipReason);
      const catalog = join(dir.path, 'catalog');
      const pkg = join(dir.path, 'viostor');
      await mkdir(pkg, { recursive: true });
      await writeFile(join(pkg, 'viostor.inf'), await readFile(join(REPO_ROOT, 'test/fixtures/inf/kvm-guest-drivers-windows__viostor__viostor.inx')));
      await writeFile(join(pkg, 'viostor.sys'), 'MZ');
      await writeFile(join(pkg, 'viostor.cat'), 'cat');
      await mustRun('node', [join(REPO_ROOT, 'bin/lifeline.mjs'), 'drivers', 'add', pkg, '--catalog', catalog]);
      const r = await wine(['drivers', 'list', '--json', '--catalog', winPath(catalog)]);
      expect(r.err).toBe('');
      expect((JSON.parse(r.out) as { packages: { id: string }[] }).packages.map((p) => p.id)).toEqual(['viostor-0.0.0.1']);
    });

    it('reads the partition table of a Windows-like GPT image through the app', async (ctx) => {
      if (skipReason) ctx.skip(skipReason);
      const disk = await makeGptUefiDisk(dir.path);
      const r = await wine(['disk', 'show', winPath(disk.path), '--json']);
      if (r.code !== 0 && r.err.includes('platform.unsupported')) {
        ctx.skip('src/main/platform.ts does not open image files on win32 yet; the exe itself starts and reports that cleanly');
      }
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const ours = JSON.parse(r.out) as { style: string; identity: string; partitions: { startLba: number; sectorCount: number; uniqueGuid: string }[] };
      const theirs = (JSON.parse(await mustRun('sfdisk', ['--json', disk.path])) as { partitiontable: { id: string; partitions: { start: number; size: number; uuid: string }[] } }).partitiontable;
      expect(ours.style).toBe('gpt');
      expect(ours.identity).toBe(theirs.id.toLowerCase());
      expect(ours.partitions.map((p) => [p.startLba, p.sectorCount, p.uniqueGuid])).toEqual(theirs.partitions.map((p) => [p.start, p.size, p.uuid.toLowerCase()]));
    });

    it('shows the recovery console in a terminal (windows-ansi, as on WinPE) and follows Down, Enter and Space', async (ctx) => {
      if (skipReason) ctx.skip(skipReason);
      if (!hasTmux) ctx.skip('tmux is not installed (apt-get install tmux)');
      // No TERM, as on WinPE, so blessed picks windows-ansi; no TMUX, or blessed wraps its title for tmux.
      // --simulate: no server, network or disks needed, the same first screen every time.
      const session = TmuxSession.start(
        `env -u TERM -u TMUX WINEPREFIX=${shellQuote(prefix)} WINEDEBUG=-all wine ${shellQuote(first.exe)} appliance --simulate`,
        { cwd: dir.path, columns: CONSOLE_COLUMNS, rows: 30 },
      );
      try {
        const tabs = ['Backup server', 'IPv4', 'IPv6', 'Driver update', 'Driver tools', 'Command prompt'];
        // The menus, and the key hints: the last row the first screen draws.
        const lines = await session.waitFor((l) => tabs.every((t) => l.some((r) => r.includes(t))) && l.some((r) => r.startsWith('Type to edit')), 60_000);
        expect(lines[0]).toBe(`  [${tabs[0]}]|${tabs.slice(1).join('|')}`);
        expect(lines[1]).toBe('-'.repeat(80));
        expect(session.focusedRow(lines)).toMatch(/^> Server address +\[_ +\]/);
        // The key hints sit on the console's last row: blessed took the size from the Windows console.
        expect(lines).toHaveLength(30);
        expect(lines[29]).toMatch(/^Type to edit/);

        // Not Esc: wine's console reports a lone Esc as VK_ESCAPE without its character (0x1b),
        // and libuv drops key events that have neither a character nor a VT sequence it knows.
        session.keys('Down');
        await session.waitFor((l) => session.focusedRow(l)?.startsWith('> Port ') === true && l.some((r) => r.startsWith('  Server address ')));
        session.keys('Enter');
        await session.waitFor((l) => session.focusedRow(l) === '> [ ] Enable SSL (port 60305)');
        session.keys('Space');
        const ticked = await session.waitFor((l) => session.focusedRow(l) === '> [x] Enable SSL (port 60305)');
        expect(ticked.find((l) => l.includes('Port '))).toContain('[60305');
        expect(ticked[29]).toMatch(/^Space\/Enter: tick or untick/);
      } finally {
        // SIGHUP ends the exe; wineserver -k ends whatever else this test prefix still runs.
        session.kill();
        await runTool('sh', ['-c', `WINEPREFIX=${shellQuote(prefix)} wineserver -k`]).catch(() => undefined);
      }
    }, 100_000);
  });
});
