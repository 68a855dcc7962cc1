/**
 * Driver ranking for a machine's PnP IDs: the real virtio INFs against the IDs a QEMU virtio-blk /
 * virtio-net / SD host controller reports, plus small INFs written to isolate one rule each.
 */
import { describe, expect, it } from 'vitest';
import { parseInf } from '../../../../src/core/drivers/inf.ts';
import { idSpecificity, rankDrivers } from '../../../../src/core/drivers/match.ts';
import type { CandidateDriver } from '../../../../src/core/drivers/match.ts';
import { LSI_U3, NETKVM, SDHC, VIOSCSI, VIOSTOR, infBytes } from './inf-fixtures.ts';

const AMD64 = { arch: 'amd64' } as const;

/** IDs Windows reports for a legacy virtio-blk disk controller (most specific first). */
const VIRTIO_BLK = {
  hardwareIds: [
    'PCI\\VEN_1AF4&DEV_1001&SUBSYS_00021AF4&REV_00', 'PCI\\VEN_1AF4&DEV_1001&SUBSYS_00021AF4',
    'PCI\\VEN_1AF4&DEV_1001&CC_010000', 'PCI\\VEN_1AF4&DEV_1001&CC_0100',
  ],
  compatibleIds: [
    'PCI\\VEN_1AF4&DEV_1001&REV_00', 'PCI\\VEN_1AF4&DEV_1001', 'PCI\\VEN_1AF4&CC_010000', 'PCI\\VEN_1AF4&CC_0100',
    'PCI\\VEN_1AF4', 'PCI\\CC_010000', 'PCI\\CC_0100',
  ],
};

const candidate = (source: string, bytes: Uint8Array | string): CandidateDriver => ({ source, inf: parseInf(bytes) });
const fixture = (name: string) => candidate(name, infBytes(name));

/** viostor as stampinf would build it for virtio-win: the subsystem vendor placeholder filled in. */
const builtViostor = candidate('built/viostor.inf', new TextDecoder().decode(infBytes(VIOSTOR)).replaceAll('_INX_SUBSYS_VENDOR_ID', '1AF4'));

/** A one-device INF for isolating a rule. */
function syntheticInf(opts: { decoration?: string; ids: string; driverVer?: string; start?: number }): string {
  const deco = opts.decoration ?? 'NTamd64';
  return [
    '[Version]', 'Signature="$Windows NT$"', 'Class=SCSIAdapter', `DriverVer=${opts.driverVer ?? '01/01/2020,1.0.0.0'}`,
    '[Manufacturer]', `%Mfg%=Models${deco === '' ? '' : `,${deco}`}`,
    `[Models${deco === '' ? '' : `.${deco}`}]`, `%Desc%=Inst, ${opts.ids}`,
    '[Inst]', '[Inst.Services]', 'AddService=svc,0x2,Svc_Inst', '[Svc_Inst]', `StartType=${opts.start ?? 3}`,
    '[Strings]', 'Mfg="Example"', 'Desc="Example controller"',
  ].join('\n');
}

describe('rankDrivers', () => {
  it('puts the built viostor (exact hardware ID) before the INX template (compatible ID) and drops non-matches', () => {
    const ranked = rankDrivers(VIRTIO_BLK, [fixture(NETKVM), fixture(VIOSTOR), fixture(VIOSCSI), fixture(LSI_U3), builtViostor], AMD64);
    expect(ranked.map((m) => [m.source, m.rank, m.matchedId, m.deviceIdRole, m.infIdRole])).toEqual([
      ['built/viostor.inf', 0x0000, 'PCI\\VEN_1AF4&DEV_1001&SUBSYS_00021AF4&REV_00', 'hardware', 'hardware'],
      [VIOSTOR, 0x3001, 'PCI\\VEN_1AF4&DEV_1001', 'compatible', 'compatible'],
    ]);
    expect(ranked[0]!.specificity).toBe(4);
    expect(ranked[0]!.bootCritical).toBe(true);
    expect(ranked[0]!.reasons).toEqual([
      "device hardware ID #1 PCI\\VEN_1AF4&DEV_1001&SUBSYS_00021AF4&REV_00 is the INF's hardware ID (rank 0x0000, 4 qualifiers)",
      'models section [VioStor.NT$ARCH$] applies to amd64',
      'DriverVer 2008-01-01, 0.0.0.1',
      'boot-critical: its function driver service starts at boot (StartType 0)',
    ]);
  });

  it('matches netkvm on the virtio-net hardware ID and marks it not boot-critical', () => {
    const nic = { hardwareIds: ['PCI\\VEN_1AF4&DEV_1000&SUBSYS_00011AF4&REV_00', 'PCI\\VEN_1AF4&DEV_1000&SUBSYS_00011AF4'] };
    const [match, ...rest] = rankDrivers(nic, [fixture(VIOSTOR), fixture(NETKVM)], AMD64);
    expect(rest).toEqual([]);
    expect(match).toMatchObject({ source: NETKVM, rank: 0, bootCritical: false, infIdRole: 'hardware' });
    expect(match!.device.description).toBe('Red Hat VirtIO Ethernet Adapter');
  });

  it('matches a generic class ID through the device compatible IDs (rank 0x2000 + position)', () => {
    const sd = { hardwareIds: ['PCI\\VEN_8086&DEV_9D2D&SUBSYS_00000000&REV_21'], compatibleIds: ['PCI\\VEN_8086&DEV_9D2D&REV_21', 'PCI\\CC_080501'] };
    const [match] = rankDrivers(sd, [fixture(SDHC)], AMD64);
    expect(match).toMatchObject({ rank: 0x2001, matchedId: 'PCI\\CC_080501', deviceIdRole: 'compatible', infIdRole: 'hardware', specificity: 1 });
  });

  it('prefers the more specific ID even when the device lists IDs in another order', () => {
    const device = { hardwareIds: ['PCI\\VEN_1AF4&DEV_1001', 'PCI\\VEN_1AF4&DEV_1001&SUBSYS_00021AF4&REV_00'] };
    const generic = candidate('generic.inf', syntheticInf({ ids: 'PCI\\VEN_1AF4&DEV_1001' }));
    const specific = candidate('specific.inf', syntheticInf({ ids: 'PCI\\VEN_1AF4&DEV_1001&SUBSYS_00021AF4&REV_00' }));
    expect(rankDrivers(device, [generic, specific], AMD64).map((m) => [m.source, m.specificity])).toEqual([['specific.inf', 4], ['generic.inf', 2]]);
  });

  it('a hardware-ID match beats a compatible-ID match even when that one is more specific', () => {
    const device = { hardwareIds: ['PCI\\VEN_1AF4&DEV_1001'], compatibleIds: ['PCI\\VEN_1AF4&DEV_1001&SUBSYS_00021AF4&REV_00'] };
    const viaCompat = candidate('a.inf', syntheticInf({ ids: 'PCI\\VEN_1AF4&DEV_1001&SUBSYS_00021AF4&REV_00' }));
    const viaHardware = candidate('b.inf', syntheticInf({ ids: 'PCI\\VEN_1AF4&DEV_1001' }));
    expect(rankDrivers(device, [viaCompat, viaHardware], AMD64).map((m) => m.source)).toEqual(['b.inf', 'a.inf']);
  });

  it('ignores models sections for other architectures and undecorated ones on amd64', () => {
    const device = { hardwareIds: ['PCI\\VEN_1000&DEV_0020'] };
    const x86Only = candidate('x86.inf', syntheticInf({ decoration: 'NTx86', ids: 'PCI\\VEN_1000&DEV_0020' }));
    const undecorated = candidate('old.inf', syntheticInf({ decoration: '', ids: 'PCI\\VEN_1000&DEV_0020' }));
    const amd64 = candidate('amd64.inf', syntheticInf({ decoration: 'NTamd64', ids: 'PCI\\VEN_1000&DEV_0020' }));
    expect(rankDrivers(device, [x86Only, undecorated, amd64], AMD64).map((m) => m.source)).toEqual(['amd64.inf']);
    expect(rankDrivers(device, [x86Only, undecorated, amd64], { arch: 'x86' }).map((m) => m.source)).toEqual(['old.inf', 'x86.inf']);
  });

  it('breaks ties by the newer DriverVer date, then the higher version', () => {
    const device = { hardwareIds: ['PCI\\VEN_1000&DEV_0020'] };
    const older = candidate('older.inf', syntheticInf({ ids: 'PCI\\VEN_1000&DEV_0020', driverVer: '06/12/2008,5.9.10.4' }));
    const newer = candidate('newer.inf', syntheticInf({ ids: 'PCI\\VEN_1000&DEV_0020', driverVer: '05/20/2022,62.91.104.9' }));
    const newerHigher = candidate('newer-higher.inf', syntheticInf({ ids: 'PCI\\VEN_1000&DEV_0020', driverVer: '05/20/2022,62.91.104.22100' }));
    expect(rankDrivers(device, [older, newer, newerHigher], AMD64).map((m) => m.source)).toEqual(['newer-higher.inf', 'newer.inf', 'older.inf']);
  });

  it('compares IDs without regard to case', () => {
    const [match] = rankDrivers({ hardwareIds: ['pci\\ven_1000&dev_0021'] }, [fixture(LSI_U3)], AMD64);
    expect(match).toMatchObject({ rank: 0, bootCritical: true });
    expect(match!.device.description).toBe('LSI Ultra3 PCI SCSI Adapter; 53C1010-66 (StorPort)');
  });
});

describe('idSpecificity', () => {
  it('counts the qualifiers after the enumerator', () => {
    expect(['PCI\\VEN_1AF4&DEV_1001&SUBSYS_00021AF4&REV_00', 'PCI\\VEN_1AF4&DEV_1001', 'PCI\\CC_0100', 'root\\netvadapter'].map(idSpecificity)).toEqual([4, 2, 1, 1]);
  });
});
