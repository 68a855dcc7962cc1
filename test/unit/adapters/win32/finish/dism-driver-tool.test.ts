/**
 * DismDriverTool with a real folder catalog built from the virtio INF fixtures (addDriverPackage
 * over copied package folders) and a scripted dism: which INFs are chosen for KVM hardware IDs and
 * the exact dism command lines.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DismDriverTool } from '../../../../../src/adapters/win32/finish/dism-driver-tool.ts';
import { FolderCatalogStore } from '../../../../../src/adapters/node/driver-catalog-store.ts';
import { FolderPackageSource } from '../../../../../src/adapters/node/driver-package-source.ts';
import { addDriverPackage, matchCatalogDrivers } from '../../../../../src/app/driver-catalog.ts';
import { tempDir } from '../../../../helpers/run.ts';
import { exit, ok, ScriptedRunner } from '../fake-runner.ts';
import { line, lister, mounted, system, volume } from './finish-fakes.ts';

const INF_DIR = new URL('../../../../fixtures/inf/', import.meta.url).pathname;
const PACKAGES: [string, string, string[]][] = [
  ['viostor', 'kvm-guest-drivers-windows__viostor__viostor.inx', ['viostor.sys', 'viostor.cat']],
  ['netkvm', 'kvm-guest-drivers-windows__NetKVM__netkvm.inf', ['netkvm.sys', 'netkvm.cat']],
  ['balloon', 'kvm-guest-drivers-windows__Balloon__sys__balloon.inx', ['balloon.sys', 'Balloon.cat']],
];
const KVM_IDS = [
  'PCI\\VEN_1AF4&DEV_1001&SUBSYS_00021AF4&REV_00', 'PCI\\VEN_1AF4&DEV_1001',
  'PCI\\VEN_1AF4&DEV_1000&SUBSYS_00011AF4&REV_00', 'PCI\\VEN_1AF4&DEV_1000',
  'PCI\\VEN_1AF4&DEV_1002&SUBSYS_00051AF4&REV_00', 'PCI\\VEN_1AF4&DEV_1002',
];

let dir: { path: string; cleanup(): Promise<void> } | undefined;
let store: FolderCatalogStore;

beforeAll(async () => {
  dir = await tempDir();
  store = new FolderCatalogStore(join(dir.path, 'catalog'));
  for (const [name, inf, files] of PACKAGES) {
    const folder = join(dir.path, 'src', name);
    mkdirSync(folder, { recursive: true });
    copyFileSync(INF_DIR + inf, join(folder, `${name}.inf`));
    for (const f of files) writeFileSync(join(folder, f), 'dummy');
    await addDriverPackage(store, new FolderPackageSource(folder));
  }
});
afterAll(async () => dir?.cleanup());

function harness(answer = () => ok('Found 1 driver package(s) to install.\r\nInstalling 1 of 1 - X: The driver package was successfully installed.\r\nThe operation completed successfully.\r\n')) {
  const lines: string[] = [];
  const runner = new ScriptedRunner((call) => {
    lines.push(line(call));
    return answer();
  });
  const tool = new DismDriverTool({
    runner, volumes: lister([mounted('c', 351n, 'C')]), fileExists: (p) => p === 'C:\\Windows\\System32\\config\\SYSTEM',
    catalogs: [{ store, windowsRoot: 'D:\\drivers' }], matchCatalogDrivers,
  });
  return { tool, lines };
}
const restored = system('bios', [volume(2, 351n)]);
const dism = (inf: string) => `dism.exe /Image:C:\\ /English /LogPath:C:\\Windows\\Logs\\DISM\\lifeline-add-driver.log /Add-Driver /Driver:${inf}`;

describe('DismDriverTool', () => {
  it('injects viostor (storage) and NetKVM (Net) for KVM IDs, not the balloon (System)', async () => {
    const { tool, lines } = harness();
    const outcome = await tool.injectDrivers({ system: restored, hardwareIds: KVM_IDS });
    expect(lines).toEqual([
      dism('D:\\drivers\\SCSIAdapter\\viostor-0.0.0.1\\viostor.inf'),
      dism('D:\\drivers\\Net\\netkvm-1.0.0.0\\netkvm.inf'),
    ]);
    expect(outcome.status).toBe('done');
    const detail = outcome.status === 'done' ? outcome.detail ?? '' : '';
    expect(detail).toContain('viostor.inf (SCSIAdapter, boot-critical) for PCI\\VEN_1AF4&DEV_1001');
    expect(detail).toContain('netkvm.inf (Net');
    expect(detail).toContain('PCI\\VEN_1AF4&DEV_1000&SUBSYS_00011AF4&REV_00');
    expect(detail).not.toContain('balloon');
  });

  it('is skipped, naming the IDs, when nothing matches', async () => {
    const { tool, lines } = harness();
    const outcome = await tool.injectDrivers({ system: restored, hardwareIds: ['PCI\\VEN_8086&DEV_100E'] });
    expect(outcome).toMatchObject({ status: 'skipped' });
    expect(outcome.status === 'skipped' && outcome.why).toContain('PCI\\VEN_8086&DEV_100E');
    expect(lines).toEqual([]);
  });

  it('fails with DISM\'s error', async () => {
    const { tool, lines } = harness(() => exit(2, '\r\nError: 2\r\n\r\nThe system cannot find the file specified.\r\n'));
    const outcome = await tool.injectDrivers({ system: restored, hardwareIds: KVM_IDS });
    expect(outcome).toMatchObject({ status: 'failed', code: 'tool.dism-failed' });
    expect(outcome.status === 'failed' && outcome.message).toContain('Error: 2 The system cannot find the file specified.');
    expect(lines).toHaveLength(1);
  });
});
