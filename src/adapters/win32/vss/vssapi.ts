/**
 * The real VssRuntime on Windows: COM initialised for this thread (multithreaded apartment) with the
 * process security a requester needs so writers can call back (as the SDK's vshadow sample does:
 * packet-privacy authentication, identify impersonation, dynamic cloaking), then vssapi.dll's
 * exported creator and free function, and oleaut32's SysFreeString. Loaded lazily: nothing here runs
 * on Linux, where the requester is driven through a fake object instead (see the tests).
 *
 *   HRESULT CreateVssBackupComponentsInternal(IVssBackupComponents **ppBackup)   vssapi.dll
 *   void    VssFreeSnapshotPropertiesInternal(VSS_SNAPSHOT_PROP *pProp)          vssapi.dll
 * (vsbackup.h's CreateVssBackupComponents and VssFreeSnapshotProperties are inline wrappers of these.)
 */
import koffi from 'koffi';
import { RecoveryError } from '../../../core/errors.ts';
import { failed, formatHresult } from '../../../core/vss/hresult.ts';
import type { VssRuntime } from './backup-components-object.ts';
import { outPointer, outValue } from './com.ts';

const COINIT_MULTITHREADED = 0x0;
const RPC_C_AUTHN_LEVEL_PKT_PRIVACY = 6;
const RPC_C_IMP_LEVEL_IDENTIFY = 2;
const EOAC_DYNAMIC_CLOAKING = 0x40;
const RPC_E_TOO_LATE = 0x80010119 | 0;
const RPC_E_CHANGED_MODE = 0x80010106 | 0;

let runtime: VssRuntime | undefined;

/** Loads the Windows libraries once and initialises COM for the calling thread. Windows only. */
export function loadVssRuntime(): VssRuntime {
  if (runtime !== undefined) return runtime;
  if (process.platform !== 'win32') {
    throw new RecoveryError('vss.unavailable', `VSS exists only on Windows (this is ${process.platform})`, { data: { platform: process.platform } });
  }
  const ole32 = koffi.load('ole32.dll');
  const oleaut32 = koffi.load('oleaut32.dll');
  const vssapi = koffi.load('vssapi.dll');
  const CoInitializeEx = ole32.func('int32_t __stdcall CoInitializeEx(void *reserved, uint32_t coInit)');
  const CoInitializeSecurity = ole32.func(
    'int32_t __stdcall CoInitializeSecurity(void *sd, int32_t cAuthSvc, void *asAuthSvc, void *r1, uint32_t authnLevel, uint32_t impLevel, void *authList, uint32_t capabilities, void *r3)',
  );
  const SysFreeString = oleaut32.func('void __stdcall SysFreeString(void *bstr)');
  const Create = vssapi.func('int32_t __stdcall CreateVssBackupComponentsInternal(void *ppBackup)');
  const FreeProps = vssapi.func('void __stdcall VssFreeSnapshotPropertiesInternal(void *prop)');

  const init = CoInitializeEx(null, COINIT_MULTITHREADED) as number;
  if (failed(init) && init !== RPC_E_CHANGED_MODE) {
    throw new RecoveryError('vss.com-init-failed', `CoInitializeEx returned ${formatHresult(init)}`, { data: { hresult: formatHresult(init) } });
  }
  const security = CoInitializeSecurity(null, -1, null, null, RPC_C_AUTHN_LEVEL_PKT_PRIVACY, RPC_C_IMP_LEVEL_IDENTIFY, null, EOAC_DYNAMIC_CLOAKING, null) as number;
  if (failed(security) && security !== RPC_E_TOO_LATE) {
    throw new RecoveryError('vss.com-init-failed', `CoInitializeSecurity returned ${formatHresult(security)}`, { data: { hresult: formatHresult(security) } });
  }

  runtime = {
    createBackupComponents() {
      const out = outPointer();
      const hr = Create(out) as number;
      if (failed(hr)) {
        // E_ACCESSDENIED here means the process is not elevated (backup operators or administrators only).
        throw new RecoveryError('vss.create-failed', `CreateVssBackupComponents returned ${formatHresult(hr)}`, { data: { hresult: formatHresult(hr) } });
      }
      return outValue(out);
    },
    freeBstr(bstr) {
      if (bstr !== 0n) SysFreeString(bstr);
    },
    freeSnapshotProperties(prop) {
      FreeProps(prop);
    },
    sleep(ms) {
      return new Promise((resolve) => setTimeout(resolve, ms));
    },
  };
  return runtime;
}
