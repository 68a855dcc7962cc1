/** DISM /Get-Drivers and /Add-Driver parsers and error extraction. */
import { describe, expect, it } from 'vitest';
import { dismExitCodeText, parseDismAddDriver, parseDismDrivers, parseDismError } from '../../../../../src/adapters/win32/parse/dism.ts';
import { crlf, toolOutput } from '../tool-fixtures.ts';

/** `dism /image:E:\ /get-drivers` after injecting viostor, as printed in a vendor's WinPE recovery manual. */
const OFFLINE_TWO_DRIVERS = `
Deployment Image Servicing and Management tool
Version: 10.0.19041.1

Image Version: 6.3.9600.17246

Obtaining list of 3rd party drivers from the driver store...

Driver packages listing:

Published Name : oem0.inf
Original File Name : prnms001.inf
Inbox : No
Class Name : Printer
Provider Name : Microsoft
Date : 6/21/2006
Version : 6.3.9600.16384

Published Name : oem1.inf
Original File Name : viostor.inf
Inbox : No
Class Name : SCSIAdapter
Provider Name : Red Hat, Inc.
Date : 5/20/2022
Version : 62.91.104.22100
`;

/** The same manual's `dism /image:E:\ /add-driver /driver:…\viostor.inf` output. */
const ADD_VIOSTOR = `
Deployment Image Servicing and Management tool
Version: 10.0.19041.1

Image Version: 6.3.9600.17246

Found 1 driver package(s) to install.
Installing 1 of 1 - X:\\drivers\\2k12R2\\amd64\\viostor\\viostor.inf: The driver package was successfully installed.
The operation completed successfully.
`;

describe('parseDismDrivers', () => {
  it('reads the one OEM driver of the captured online listing', () => {
    expect(parseDismDrivers(toolOutput('dism__get-drivers__online-one-oem-driver.txt'))).toEqual({
      dismVersion: '10.0.15063.0',
      imageVersion: '10.0.15063.0',
      drivers: [{
        publishedName: 'oem0.inf', originalFileName: 'contoso.graphicsdriver.inf', inbox: false, className: 'Graphics',
        providerName: 'Contoso', date: '05/19/2017', version: '10.0.0.1',
        fields: {
          'Published Name': 'oem0.inf', 'Original File Name': 'contoso.graphicsdriver.inf', Inbox: 'No', 'Class Name': 'Graphics',
          'Provider Name': 'Contoso', Date: '05/19/2017', Version: '10.0.0.1',
        },
      }],
    });
  });

  it('reads two packages of an offline image, the injected viostor second (CRLF input)', () => {
    const list = parseDismDrivers(crlf(OFFLINE_TWO_DRIVERS));
    expect(list.imageVersion).toBe('6.3.9600.17246');
    expect(list.drivers.map((d) => [d.publishedName, d.originalFileName, d.className, d.providerName, d.date, d.version])).toEqual([
      ['oem0.inf', 'prnms001.inf', 'Printer', 'Microsoft', '6/21/2006', '6.3.9600.16384'],
      ['oem1.inf', 'viostor.inf', 'SCSIAdapter', 'Red Hat, Inc.', '5/20/2022', '62.91.104.22100'],
    ]);
  });

  it('reads the /Format:Table form and keeps extra keys of newer builds', () => {
    // Layout of `/Format:Table`: `|`-separated columns, a dashed rule under the header.
    const table = [
      'Published Name | Original File Name | Inbox | Class Name  | Provider Name | Date       | Version',
      '-------------- | ------------------ | ----- | ----------- | ------------- | ---------- | ---------------',
      'oem1.inf       | viostor.inf        | No    | SCSIAdapter | Red Hat, Inc. | 5/20/2022  | 62.91.104.22100',
      'oem2.inf       | netkvm.inf         | No    | Net         | Red Hat, Inc. | 5/20/2022  | 62.91.104.22100',
    ].join('\r\n');
    const list = parseDismDrivers(table);
    expect(list.drivers.map((d) => [d.publishedName, d.originalFileName, d.inbox, d.className, d.version])).toEqual([
      ['oem1.inf', 'viostor.inf', false, 'SCSIAdapter', '62.91.104.22100'],
      ['oem2.inf', 'netkvm.inf', false, 'Net', '62.91.104.22100'],
    ]);
    const extra = parseDismDrivers('Published Name : oem3.inf\nClass Description : Storage controllers\nBoot Critical : Yes\n');
    expect(extra.drivers[0]!.fields['Boot Critical']).toBe('Yes');
    expect(extra.drivers[0]!.inbox).toBeUndefined();
  });
});

describe('parseDismAddDriver', () => {
  it('reads the package count and the per-package result', () => {
    expect(parseDismAddDriver(crlf(ADD_VIOSTOR))).toEqual({
      found: 1,
      packages: [{
        index: 1, total: 1, path: 'X:\\drivers\\2k12R2\\amd64\\viostor\\viostor.inf',
        message: 'The driver package was successfully installed.', installed: true,
      }],
    });
  });
});

describe('parseDismError', () => {
  it('reads a Win32 code with its message and stops before the log hint', () => {
    // Laid out as DISM prints failures (`Error: n`, message, log hint); the message text is illustrative.
    const out = '\r\nDeployment Image Servicing and Management tool\r\nVersion: 10.0.19041.1\r\n\r\n\r\nError: 87\r\n\r\nThe add-driver option is unknown.\r\nFor more information, refer to the help.\r\n\r\nThe DISM log file can be found at X:\\Windows\\Logs\\DISM\\dism.log\r\n';
    expect(parseDismError(out)).toEqual({ code: '87', message: 'The add-driver option is unknown. For more information, refer to the help.' });
  });

  it('reads an HRESULT code and returns undefined for clean output', () => {
    expect(parseDismError('Error: 0x800f081f\n\nThe source files could not be found.\n')?.code).toBe('0x800f081f');
    expect(parseDismError(toolOutput('dism__get-drivers__online-one-oem-driver.txt'))).toBeUndefined();
  });

  it('prints exit codes as DISM does', () => {
    expect([dismExitCodeText(87), dismExitCodeText(-2146498529), dismExitCodeText(0x800f081f)]).toEqual(['87', '0x800f081f', '0x800f081f']);
  });
});
