/**
 * The INF parser on every real INF/INX fixture: what each file says about its class, version,
 * models (hardware and compatible IDs per TargetOS decoration) and services, checked against the
 * values written in the files themselves.
 */
import { describe, expect, it } from 'vitest';
import { devicesFor, isBootCritical, parseInf, servicesFor } from '../../../../src/core/drivers/inf.ts';
import { findInfSection, infLinesWithKey, infValue } from '../../../../src/core/drivers/inf-syntax.ts';
import {
  BALLOON, INF_FIXTURES, LSI_U3, MINISPY, NETKVM, NETVADAPTER, NETVMINI, SAMPLEDISPLAY, SDHC, TOASTPKG, VIOSCSI, VIOSTOR, infBytes,
} from './inf-fixtures.ts';

const AMD64 = { arch: 'amd64' } as const;
const load = (name: string) => parseInf(infBytes(name));

describe('virtio-win viostor.inx', () => {
  const inf = load(VIOSTOR);

  it('reads [Version], dropping the comment after DriverVer', () => {
    expect(inf.version).toEqual({
      signature: '$Windows NT$',
      class: 'SCSIAdapter',
      classGuid: '{4D36E97B-E325-11CE-BFC1-08002BE10318}',
      provider: 'INX_COMPANY',
      driverVer: { date: '01/01/2008', isoDate: '2008-01-01', version: '0.0.0.1' },
      catalogFile: 'viostor.cat',
    });
  });

  it('lists the virtio-blk hardware and compatible IDs of the NT$ARCH$ models section', () => {
    expect(inf.manufacturers).toEqual([{ name: 'INX_COMPANY', modelsSection: 'VioStor', decorations: [{ raw: 'NT$ARCH$', arch: 'any' }] }]);
    const devices = devicesFor(inf, AMD64);
    expect(devices.map((d) => [d.hardwareId, d.compatibleIds])).toEqual([
      ['PCI\\VEN_1AF4&DEV_1001&SUBSYS_0002_INX_SUBSYS_VENDOR_ID&REV_00', ['PCI\\VEN_1AF4&DEV_1001']],
      ['PCI\\VEN_1AF4&DEV_1042&SUBSYS_1100_INX_SUBSYS_VENDOR_ID&REV_01', ['PCI\\VEN_1AF4&DEV_1042']],
    ]);
    expect(devices.every((d) => d.description === 'INX_PREFIX_VENDORVirtIO SCSI controller' && d.installSection === 'scsi_inst')).toBe(true);
    expect(devices[0]!.modelsSection).toBe('VioStor.NT$ARCH$');
  });

  it('finds the boot-start StorPort service, so the driver is boot-critical', () => {
    const [device] = devicesFor(inf, AMD64);
    expect(servicesFor(inf, 'scsi_inst', 'amd64')).toEqual([{
      name: 'viostor', flags: 2, installSection: 'scsi_Service_Inst', startType: 0, serviceType: 1,
      loadOrderGroup: 'SCSI miniport', serviceBinary: '%INX_PLATFORM_DRIVERS_DIR%\\viostor.sys',
    }]);
    expect(isBootCritical(inf, device!, 'amd64')).toBe(true);
  });

  it('turns %% into % and reports BusType 1 (SCSI) in the AddReg data', () => {
    const addReg = findInfSection(inf.document, 'scsi_EventLog_AddReg')!.lines[0]!;
    expect(addReg.fields).toEqual(['HKR', '', 'EventMessageFile', '0x00020000', '%SystemRoot%\\System32\\IoLogMsg.dll']);
    const busType = findInfSection(inf.document, 'pnpsafe_pci_addreg')!.lines[1]!;
    expect(busType.fields).toEqual(['HKR', 'Parameters', 'BusType', '0x00010001', '0x00000001']);
  });
});

describe('virtio-win vioscsi.inx', () => {
  const inf = load(VIOSCSI);

  it('lists the virtio-scsi IDs and a boot-start service with a display name', () => {
    const devices = devicesFor(inf, AMD64);
    expect(devices.map((d) => d.hardwareId)).toEqual([
      'PCI\\VEN_1AF4&DEV_1004&SUBSYS_0008_INX_SUBSYS_VENDOR_ID&REV_00',
      'PCI\\VEN_1AF4&DEV_1048&SUBSYS_1100_INX_SUBSYS_VENDOR_ID&REV_01',
    ]);
    expect(devices.map((d) => d.compatibleIds)).toEqual([['PCI\\VEN_1AF4&DEV_1004'], ['PCI\\VEN_1AF4&DEV_1048']]);
    expect(isBootCritical(inf, devices[0]!, 'amd64')).toBe(true);
    expect(infValue(findInfSection(inf.document, 'scsi_Service_Inst'), 'DisplayName')).toBe('INX_PREFIX_VENDORVirtIO SCSI pass-through Service');
    expect(findInfSection(inf.document, 'pnpsafe_pci_addreg')!.lines[1]!.fields[4]).toBe('0x0000000A');
  });
});

describe('virtio-win NetKVM netkvm.inf (2017)', () => {
  const inf = load(NETKVM);

  it('substitutes a quoted string holding a comma for the provider', () => {
    expect(inf.version.provider).toBe('Red Hat, Inc.');
    expect(inf.version.class).toBe('Net');
    expect(inf.version.driverVer).toEqual({ date: '03/15/2013', isoDate: '2013-03-15', version: '1.0.0.0' });
  });

  it('lists the virtio-net IDs with no compatible IDs, demand-start NDIS service', () => {
    const devices = devicesFor(inf, AMD64);
    expect(devices.map((d) => [d.description, d.installSection, d.hardwareId, d.compatibleIds])).toEqual([
      ['Red Hat VirtIO Ethernet Adapter', 'kvmnet6.ndi', 'PCI\\VEN_1AF4&DEV_1000&SUBSYS_00011AF4&REV_00', []],
      ['Red Hat VirtIO Ethernet Adapter', 'kvmnet6.ndi', 'PCI\\VEN_1AF4&DEV_1041&SUBSYS_11001AF4&REV_01', []],
    ]);
    const [service] = servicesFor(inf, 'kvmnet6.ndi', 'amd64');
    expect(service).toMatchObject({ name: 'netkvm', startType: 3, loadOrderGroup: 'NDIS', serviceBinary: '%12%\\netkvm.sys' });
    expect(isBootCritical(inf, devices[0]!, 'amd64')).toBe(false);
  });

  it('keeps keys with * and drops inline comments and trailing spaces', () => {
    const ndi = findInfSection(inf.document, 'kvmnet6.ndi');
    expect(infValue(ndi, '*IfType')).toBe('6');
    expect(infValue(ndi, 'Characteristics')).toBe('0x84');
    expect(infLinesWithKey(ndi, 'AddReg')[0]!.fields).toEqual(['kvmnet6.Reg', 'Parameters']);
    expect(inf.document.strings.get('txrx')).toBe('Rx & Tx Enabled');
  });
});

describe('virtio-win balloon.inx', () => {
  const inf = load(BALLOON);

  it('keeps ; inside quoted strings (an SDDL string and a two-file message path)', () => {
    expect(findInfSection(inf.document, 'BALLOON_SD')!.lines[0]!.fields).toEqual(['HKR', '', 'Security', '', 'D:P(A;;GA;;;SY)']);
    expect(findInfSection(inf.document, 'BALLOON_Logging_Inst_AddReg')!.lines[0]!.fields[4])
      .toBe('%SystemRoot%\\System32\\IoLogMsg.dll;INX_BASE_ON_SYSTEM_ROOT_DRIVER_DIR\\balloon.sys');
  });

  it('resolves the .NT install section for its services (demand start, not boot-critical)', () => {
    const [device] = devicesFor(inf, AMD64);
    expect(device!.hardwareId).toBe('PCI\\VEN_1AF4&DEV_1002&SUBSYS_0005_INX_SUBSYS_VENDOR_ID&REV_00');
    expect(servicesFor(inf, 'BALLOON_Device', 'amd64')).toMatchObject([{ name: 'BALLOON', flags: 2, installSection: 'BALLOON_Service_Inst', startType: 3 }]);
    expect(isBootCritical(inf, device!, 'amd64')).toBe(false);
  });
});

describe('Windows-driver-samples', () => {
  it('netvadapter.inf: decodes UTF-16LE with BOM and CRLF, skips the empty undecorated section', () => {
    const inf = load(NETVADAPTER);
    expect(inf.document.encoding).toBe('utf-16le');
    expect(inf.version.provider).toBe('Microsoft');
    expect(findInfSection(inf.document, 'Msft')!.lines).toEqual([]);
    const devices = devicesFor(inf, AMD64);
    expect(devices.map((d) => [d.installSection, d.hardwareId])).toEqual([
      ['netvadapter.ndi', 'root\\netvadapter'],
      ['netvadapter.ndi', '{b85b7c50-6a01-11d2-b841-00c04fad5171}\\netvadapter'],
      ['netvadapter.ndi', 'ndt\\netvadapter'],
      ['instance1.ndi', 'test\\netvadapter1'],
      ['instance2.ndi', 'test\\netvadapter2'],
    ]);
    expect(devices[0]!.description).toBe('KMDF Microsoft Virtual Ethernet Adapter (NDIS WDF)');
    expect(infLinesWithKey(findInfSection(inf.document, 'netvadapter.ndi'), 'AddReg')[0]!.fields)
      .toEqual(['netvadapter.reg', 'netvadapter.params', 'RSC.kw', 'UDPRSC.kw', 'USO.kw']);
  });

  it('toastpkg.inf: an OS-versioned decoration applies only from build 16299 on', () => {
    const inf = load(TOASTPKG);
    expect(inf.manufacturers[0]!.decorations).toEqual([{ raw: 'NTamd64.10.0...16299', arch: 'amd64', major: 10, minor: 0, build: 16299 }]);
    expect(inf.manufacturers[0]!.name).toBe("Toast'R'Us");
    expect(devicesFor(inf, { arch: 'amd64', os: { major: 10, minor: 0, build: 15063 } })).toEqual([]);
    const [device] = devicesFor(inf, { arch: 'amd64', os: { major: 10, minor: 0, build: 19041 } });
    expect(device!.hardwareId).toBe('{b85b7c50-6a01-11d2-b841-00c04fad5171}\\MsToaster');
    expect(devicesFor(inf, { arch: 'x86' })).toEqual([]);
    expect(inf.document.strings.get('friendlynameformat')).toBe('ToasterDevice%1!u!');
    expect(inf.version.class).toBe('TOASTER');
  });

  it('netvmini680.inf: NT$ARCH$ with an OS version, comments after model lines', () => {
    const inf = load(NETVMINI);
    const devices = devicesFor(inf, AMD64);
    expect(devices.map((d) => d.hardwareId)).toEqual([
      'root\\NetVMini680_a', 'root\\NetVMini680_b', 'root\\NetVMini680_c', 'root\\NetVMini680_d',
      '{b85b7c50-6a01-11d2-b841-00c04fad5171}\\NetVMini680',
    ]);
    expect(devices[0]!.description).toBe('Virtual Ethernet Adapter (NDIS 6.80)');
    expect(infValue(findInfSection(inf.document, 'ControlFlags'), 'ExcludeFromSelect')).toBe('{b85b7c50-6a01-11d2-b841-00c04fad5171}\\NetVMini6800');
    expect(inf.document.strings.get('*priorityvlantag')).toBe('Priority & VLAN');
  });

  it('sdhc.inx: joins backslash-continued AddReg data into one line', () => {
    const inf = load(SDHC);
    const [cmdFlags, appCmdFlags] = findInfSection(inf.document, 'SDHCServiceReg')!.lines;
    expect(cmdFlags!.fields.slice(0, 6)).toEqual(['HKR', 'Parameters', 'SdCmdFlags', '1', '05', '01']);
    expect(cmdFlags!.fields.slice(-2)).toEqual(['25', '01']);
    expect(cmdFlags!.fields).toHaveLength(4 + 54);
    expect(appCmdFlags!.fields.slice(2, 4)).toEqual(['SdAppCmdFlags', '1']);
    expect(appCmdFlags!.fields).toHaveLength(4 + 32);
    expect(inf.manufacturers.map((m) => m.name)).toEqual(['SDA Standard Compliant SD Host Controller Vendor', 'Tokyo Electron Device', 'VIA Technologies, Inc']);
    expect(devicesFor(inf, AMD64).map((d) => d.hardwareId)).toEqual([
      'PCI\\CC_080500', 'PCI\\CC_080501', 'ACPI\\PNP0D40', 'PCI\\VEN_1679&DEV_3000', 'PCI\\VEN_1106&DEV_365B', 'PCI\\VEN_1106&DEV_401B', 'PCI\\VEN_1106&DEV_95D0',
    ]);
    expect(devicesFor(inf, AMD64)[3]!.description).toBe('Tokyo Electron SD Standard host controller');
  });

  it('lsi_u3.inf: string values with ; stay whole; two AddReg lines; boot-critical StorPort miniport', () => {
    const inf = load(LSI_U3);
    const devices = devicesFor(inf, AMD64);
    expect(devices.map((d) => [d.description, d.hardwareId])).toEqual([
      ['LSI Ultra3 PCI SCSI Adapter; 53C1010-33 (StorPort)', 'PCI\\VEN_1000&DEV_0020'],
      ['LSI Ultra3 PCI SCSI Adapter; 53C1010-66 (StorPort)', 'PCI\\VEN_1000&DEV_0021'],
    ]);
    expect(infLinesWithKey(findInfSection(inf.document, 'LSI_U3_Service_Inst'), 'AddReg').map((l) => l.fields[0])).toEqual(['pnpsafe_pci_addreg', 'bus_type_scsi']);
    expect(isBootCritical(inf, devices[0]!, 'amd64')).toBe(true);
    expect(inf.version.driverVer?.version).toBe('5.09.10.04');
  });

  it('sampledisplay.inf: several decorations on one line, one section per architecture', () => {
    const inf = load(SAMPLEDISPLAY);
    expect(inf.manufacturers[0]!.decorations.map((d) => d.arch)).toEqual(['amd64', 'arm', 'arm64']);
    expect(devicesFor(inf, AMD64).map((d) => d.modelsSection)).toEqual(Array(4).fill('Standard.NTamd64'));
    expect(devicesFor(inf, { arch: 'arm64' }).map((d) => d.hardwareId)).toEqual(['PCI\\CC_0300', 'PCI\\CC_0301', 'ACPI\\CLS_0003&SUBCLS_0000', 'ACPI\\CLS_0003&SUBCLS_0001']);
    expect(devicesFor(inf, { arch: 'x86' })).toEqual([]);
    expect(inf.devices).toHaveLength(12);
    expect(inf.version.driverVer).toEqual({ date: '03/15/2011', isoDate: '2011-03-15', version: '0.03.15.0011' });
  });

  it('minispy.inf: a comment ending in \\ does not continue the line; no [Manufacturer]', () => {
    const inf = load(MINISPY);
    expect(inf.manufacturers).toEqual([]);
    expect(inf.devices).toEqual([]);
    const service = findInfSection(inf.document, 'Minispy.Service');
    expect(infValue(service, 'ServiceBinary')).toBe('%13%\\minispy.sys');
    expect(infValue(service, 'Dependencies')).toBe('FltMgr');
    expect(infValue(service, 'LoadOrderGroup')).toBe('FSFilter Activity Monitor');
    expect(findInfSection(inf.document, 'DefaultInstall.NT$ARCH$.10.0...25952')).toBeDefined();
    expect(findInfSection(inf.document, 'Minispy.AddRegistry')!.lines[2]!.fields)
      .toEqual(['HKR', 'Parameters\\Instances\\Minispy - Middle Instance', 'Altitude', '0x00000000', '370000']);
    expect(inf.version.class).toBe('ActivityMonitor');
  });
});

describe('every fixture', () => {
  it.each(INF_FIXTURES)('%s has a [Version] section with a signature and a class GUID', (name) => {
    const inf = load(name);
    expect(inf.version.signature?.toLowerCase()).toBe('$windows nt$');
    expect(inf.version.classGuid).toMatch(/^\{[0-9a-f-]{36}\}$/i);
    expect(inf.version.driverVer?.isoDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});
