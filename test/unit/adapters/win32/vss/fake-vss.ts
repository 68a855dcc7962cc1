/**
 * A fake IVssBackupComponents that lives in native memory: an object is a pointer to a vtable whose
 * slots are koffi-registered callbacks, exactly what CreateVssBackupComponentsInternal hands a
 * requester on Windows. The method order and signatures here are written independently of
 * src/adapters/win32/vss/vtable.ts, from winapi-rs `src/um/vsbackup.rs` / `src/um/vss.rs` (the
 * Windows SDK's declaration order), so a wrong slot or parameter type in the requester shows up as a
 * wrong call here. It also hands out IVssAsync and IVssExamineWriterMetadata objects, keeps reference
 * counts, BSTR and snapshot-property allocations, and records every call with decoded arguments.
 */
import koffi from 'koffi';
import type { VssRuntime } from '../../../../../src/adapters/win32/vss/requester.ts';

// ---------------------------------------------------------------- the interfaces, by declaration order

const IUNKNOWN = ['QueryInterface', 'AddRef', 'Release'];
export const BACKUP_COMPONENTS_METHODS = [
  ...IUNKNOWN,
  'GetWriterComponentsCount', 'GetWriterComponents', 'InitializeForBackup', 'SetBackupState', 'InitializeForRestore',
  'SetRestoreState', 'GatherWriterMetadata', 'GetWriterMetadataCount', 'GetWriterMetadata', 'FreeWriterMetadata',
  'AddComponent', 'PrepareForBackup', 'AbortBackup', 'GatherWriterStatus', 'GetWriterStatusCount', 'FreeWriterStatus',
  'GetWriterStatus', 'SetBackupSucceeded', 'SetBackupOptions', 'SetSelectedForRestore', 'SetRestoreOptions',
  'SetAdditionalRestores', 'SetPreviousBackupStamp', 'SaveAsXML', 'BackupComplete', 'AddAlternativeLocationMapping',
  'AddRestoreSubcomponent', 'SetFileRestoreStatus', 'AddNewTarget', 'SetRangesFilePath', 'PreRestore', 'PostRestore',
  'SetContext', 'StartSnapshotSet', 'AddToSnapshotSet', 'DoSnapshotSet', 'DeleteSnapshots', 'ImportSnapshots',
  'BreakSnapshotSet', 'GetSnapshotProperties', 'Query', 'IsVolumeSupported', 'DisableWriterClasses', 'EnableWriterClasses',
  'DisableWriterInstances', 'ExposeSnapshot', 'RevertToSnapshot', 'QueryRevertStatus',
  // IVssBackupComponentsEx, Ex2, Ex3
  'GetWriterMetadataEx', 'SetSelectedForRestoreEx',
  'UnexposeSnapshot', 'SetAuthoritativeRestore', 'SetRollForward', 'SetRestoreName', 'BreakSnapshotSetEx', 'PreFastRecovery', 'FastRecovery',
  'GetWriterStatusEx', 'AddSnapshotToRecoverySet', 'RecoverSet', 'GetSessionId',
] as const;
const ASYNC_METHODS = [...IUNKNOWN, 'Cancel', 'Wait', 'QueryStatus'] as const;
const METADATA_METHODS = [
  ...IUNKNOWN, 'GetIdentity', 'GetFileCounts', 'GetIncludeFile', 'GetExcludeFile', 'GetComponent', 'GetRestoreMethod',
  'GetAlternateLocationMapping', 'GetBackupSchema', 'GetDocument', 'SaveAsXML', 'LoadFromXML',
] as const;

const FakeGuid = koffi.struct('VssFakeGuid', { Data1: 'uint32_t', Data2: 'uint16_t', Data3: 'uint16_t', Data4: koffi.array('uint8_t', 8) });
const P = 'void *';
const STR = 'const char16_t *';
type TypeSpec = Parameters<typeof koffi.sizeof>[0];
const sig = (name: string, args: TypeSpec[], result = 'int32_t') => koffi.proto(`VssFake_${name}`, result, [P, ...args]);

/** Signatures after `this`, from winapi-rs; methods not listed get a no-argument probe that reports the call. */
const SIGNATURES: Record<string, ReturnType<typeof koffi.proto>> = {
  QueryInterface: sig('QueryInterface', [P, P]),
  AddRef: sig('AddRef', [], 'uint32_t'),
  Release: sig('Release', [], 'uint32_t'),
  InitializeForBackup: sig('InitializeForBackup', [P]),
  SetBackupState: sig('SetBackupState', ['bool', 'bool', 'int32_t', 'bool']),
  GatherWriterMetadata: sig('GatherWriterMetadata', [P]),
  GetWriterMetadataCount: sig('GetWriterMetadataCount', [P]),
  GetWriterMetadata: sig('GetWriterMetadata', ['uint32_t', P, P]),
  FreeWriterMetadata: sig('FreeWriterMetadata', []),
  AddComponent: sig('AddComponent', [FakeGuid, FakeGuid, 'int32_t', STR, STR]),
  PrepareForBackup: sig('PrepareForBackup', [P]),
  AbortBackup: sig('AbortBackup', []),
  GatherWriterStatus: sig('GatherWriterStatus', [P]),
  GetWriterStatusCount: sig('GetWriterStatusCount', [P]),
  FreeWriterStatus: sig('FreeWriterStatus', []),
  GetWriterStatus: sig('GetWriterStatus', ['uint32_t', P, P, P, P, P]),
  SetBackupSucceeded: sig('SetBackupSucceeded', [FakeGuid, FakeGuid, 'int32_t', STR, STR, 'bool']),
  SaveAsXML: sig('SaveAsXML', [P]),
  BackupComplete: sig('BackupComplete', [P]),
  SetContext: sig('SetContext', ['int32_t']),
  StartSnapshotSet: sig('StartSnapshotSet', [P]),
  AddToSnapshotSet: sig('AddToSnapshotSet', [STR, FakeGuid, P]),
  DoSnapshotSet: sig('DoSnapshotSet', [P]),
  DeleteSnapshots: sig('DeleteSnapshots', [FakeGuid, 'int32_t', 'int32_t', P, P]),
  GetSnapshotProperties: sig('GetSnapshotProperties', [FakeGuid, P]),
  GetWriterStatusEx: sig('GetWriterStatusEx', ['uint32_t', P, P, P, P, P, P, P]),
  Cancel: sig('Cancel', []),
  Wait: sig('Wait', ['uint32_t']),
  QueryStatus: sig('QueryStatus', [P, P]),
};
const PROBE = sig('Probe', []);

// ---------------------------------------------------------------- values

const E_NOTIMPL = 0x80004001 | 0;
const E_NOINTERFACE = 0x80004002 | 0;
const E_UNEXPECTED = 0x8000ffff | 0;
const VSS_S_ASYNC_PENDING = 0x00042309;
const VSS_S_ASYNC_FINISHED = 0x0004230a;
const IID_EX3 = 'c191bfbc-b602-4675-8bd1-67d642f529d5';

interface GuidValue { Data1: number; Data2: number; Data3: number; Data4: ArrayLike<number> }

export function guidText(g: GuidValue): string {
  const h = (n: number, w: number) => n.toString(16).padStart(w, '0');
  const d4 = Array.from(g.Data4, (b) => h(b, 2)).join('');
  return `${h(g.Data1, 8)}-${h(g.Data2, 4)}-${h(g.Data3, 4)}-${d4.slice(0, 4)}-${d4.slice(4)}`;
}

export function guidValue(text: string): GuidValue {
  const hex = text.replace(/[{}-]/g, '');
  const b = (i: number) => parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return { Data1: parseInt(hex.slice(0, 8), 16), Data2: parseInt(hex.slice(8, 12), 16), Data3: parseInt(hex.slice(12, 16), 16), Data4: Array.from({ length: 8 }, (_, i) => b(8 + i)) };
}

const readGuidAt = (p: bigint): string => guidText(koffi.decode(p, FakeGuid) as GuidValue);

// ---------------------------------------------------------------- options and records

export interface FakeWriterStatus {
  readonly instanceId: string;
  readonly writerId: string;
  readonly name: string;
  readonly state: number;
  readonly failure: number;
  readonly applicationMessage?: string;
}

export interface FakeOptions {
  /** Writer metadata documents GetWriterMetadata hands out, with their instance ids. */
  readonly writers: readonly { readonly instanceId: string; readonly xml: string }[];
  /** Statuses reported after the named async operation (the last one started before GatherWriterStatus). */
  readonly statuses?: (after: string) => readonly FakeWriterStatus[];
  /** This method returns `hr` at once (the async methods: the call itself fails). */
  readonly failCall?: { readonly method: string; readonly hr: number };
  /** The async operation started by this method finishes with `hr`. */
  readonly failAsync?: { readonly method: string; readonly hr: number };
  /** QueryStatus answers VSS_S_ASYNC_PENDING this many times before the result. */
  readonly pendingPolls?: number;
  /** QueryInterface gives IVssBackupComponentsEx3 (default true). */
  readonly ex3?: boolean;
  /** The Backup Components Document SaveAsXML returns; built from the calls when absent. */
  readonly backupComponentsXml?: string;
}

export interface Call {
  readonly iface: 'IVssBackupComponents' | 'IVssAsync' | 'IVssExamineWriterMetadata';
  readonly method: string;
  readonly args: readonly unknown[];
}

interface Obj {
  readonly kind: Call['iface'];
  readonly address: bigint;
  refs: number;
  /** For async objects: the method that started it; for metadata: the document. */
  readonly payload: string;
  polls: number;
}

/** The fake, its runtime, and what happened. Call dispose() when done. */
export class FakeVss {
  readonly calls: Call[] = [];
  /** Exceptions thrown inside callbacks (koffi would turn them into a 0 return, so they are kept here). */
  readonly errors: unknown[] = [];
  readonly objects = new Map<bigint, Obj>();
  readonly bstrs = new Map<bigint, { text: string; freed: boolean }>();
  readonly propStrings = new Map<bigint, boolean>();
  readonly snapshotSetId = '11111111-2222-4333-8444-555555555555';
  private readonly callbacks: bigint[] = [];
  private readonly memory: unknown[] = [];
  private readonly vtables: Record<Call['iface'], bigint>;
  private lastAsync = 'none';
  private snapshots = new Map<string, string>();
  readonly main: bigint;

  constructor(readonly options: FakeOptions) {
    this.vtables = {
      IVssBackupComponents: this.vtable('IVssBackupComponents', BACKUP_COMPONENTS_METHODS),
      IVssAsync: this.vtable('IVssAsync', ASYNC_METHODS),
      IVssExamineWriterMetadata: this.vtable('IVssExamineWriterMetadata', METADATA_METHODS),
    };
    this.main = this.object('IVssBackupComponents', '');
  }

  readonly runtime: VssRuntime = {
    createBackupComponents: () => {
      this.calls.push({ iface: 'IVssBackupComponents', method: 'CreateVssBackupComponentsInternal', args: [] });
      return this.main;
    },
    freeBstr: (bstr) => {
      const b = this.bstrs.get(bstr);
      if (b === undefined || b.freed) this.errors.push(new Error(`SysFreeString of unknown or freed BSTR ${bstr}`));
      else b.freed = true;
    },
    freeSnapshotProperties: (prop) => {
      const view = new DataView(prop.buffer, prop.byteOffset, prop.byteLength);
      for (const offset of [40, 48]) {
        const p = view.getBigUint64(offset, true);
        if (this.propStrings.get(p) !== false) this.errors.push(new Error(`VssFreeSnapshotProperties of unknown string ${p}`));
        this.propStrings.set(p, true);
      }
    },
    sleep: async () => {},
  };

  /** Method names called on one interface, in order. */
  methods(iface: Call['iface'] = 'IVssBackupComponents'): string[] {
    return this.calls.filter((c) => c.iface === iface).map((c) => c.method);
  }

  argsOf(method: string): (readonly unknown[])[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }

  /** Objects whose reference count is not back to zero. */
  leakedObjects(): string[] {
    return [...this.objects.values()].filter((o) => o.refs !== 0).map((o) => `${o.kind}(${o.payload}) refs=${o.refs}`);
  }

  leakedStrings(): number {
    return [...this.bstrs.values()].filter((b) => !b.freed).length + [...this.propStrings.values()].filter((f) => !f).length;
  }

  dispose(): void {
    for (const cb of this.callbacks) koffi.unregister(cb);
    this.callbacks.length = 0;
  }

  // ------------------------------------------------------------ native plumbing

  private alloc(type: string, count: number): bigint {
    const mem = koffi.alloc(type, count);
    this.memory.push(mem);
    return koffi.address(mem);
  }

  private vtable(iface: Call['iface'], methods: readonly string[]): bigint {
    const table = this.alloc('void *', methods.length);
    methods.forEach((name, slot) => {
      const proto = SIGNATURES[name] ?? PROBE;
      const fn = koffi.register((self: bigint, ...args: unknown[]) => {
        try {
          return this.dispatch(iface, name, self, args);
        } catch (e) {
          this.errors.push(e);
          return E_UNEXPECTED;
        }
      }, koffi.pointer(proto));
      this.callbacks.push(fn);
      koffi.encode(table, slot * 8, 'void *', fn);
    });
    return table;
  }

  private object(kind: Call['iface'], payload: string): bigint {
    const address = this.alloc('void *', 1);
    koffi.encode(address, 0, 'void *', this.vtables[kind]);
    this.objects.set(address, { kind, address, refs: 1, payload, polls: 0 });
    return address;
  }

  private bstr(text: string): bigint {
    const mem = this.alloc('uint8_t', 4 + text.length * 2 + 2);
    koffi.encode(mem, 0, 'uint32_t', text.length * 2);
    koffi.encode(mem, 4, 'char16_t', text, text.length + 1);
    this.bstrs.set(mem + 4n, { text, freed: false });
    return mem + 4n;
  }

  private wideString(text: string): bigint {
    const mem = this.alloc('char16_t', text.length + 1);
    koffi.encode(mem, 0, 'char16_t', text, text.length + 1);
    this.propStrings.set(mem, false);
    return mem;
  }

  private put(p: unknown, type: string | ReturnType<typeof koffi.struct>, value: unknown): void {
    if (typeof p !== 'bigint') throw new Error(`expected an out pointer, got ${String(p)}`);
    koffi.encode(p, 0, type, value);
  }

  // ------------------------------------------------------------ behaviour

  private statuses(): readonly FakeWriterStatus[] {
    return this.options.statuses?.(this.lastAsync) ?? this.options.writers.map((w) => {
      const id = /writerId="([^"]+)"/.exec(w.xml)?.[1] ?? '';
      const name = /friendlyName="([^"]+)"/.exec(w.xml)?.[1] ?? '';
      return { instanceId: w.instanceId, writerId: id, name, state: 1, failure: 0 };
    });
  }

  private startAsync(method: string, out: unknown): number {
    const failing = this.options.failCall?.method === method ? this.options.failCall.hr : undefined;
    if (failing !== undefined) return failing;
    if (method !== 'GatherWriterStatus') this.lastAsync = method;
    this.put(out, 'void *', this.object('IVssAsync', method));
    return 0;
  }

  private dispatch(iface: Call['iface'], method: string, self: bigint, args: unknown[]): number {
    const obj = this.objects.get(self);
    if (obj === undefined) throw new Error(`${iface}::${method} on unknown object ${self}`);
    if (obj.kind !== iface) throw new Error(`${iface}::${method} called through a ${obj.kind} object`);
    if (obj.refs <= 0 && method !== 'Release') throw new Error(`${iface}::${method} on a released object`);
    // GUIDs passed by value arrive as { Data1, … }: record and use them as text.
    args = args.map((a) => (a !== null && typeof a === 'object' && 'Data1' in a ? guidText(a as GuidValue) : a));
    this.calls.push({ iface, method, args });
    if (method === 'AddRef') return ++obj.refs;
    if (method === 'Release') {
      if (obj.refs <= 0) throw new Error(`${iface} released too often`);
      return --obj.refs;
    }
    if (!(method in SIGNATURES)) return E_NOTIMPL;
    if (iface === 'IVssAsync') return this.asyncMethod(obj, method, args);
    if (iface === 'IVssExamineWriterMetadata') {
      if (method !== 'SaveAsXML') return E_NOTIMPL;
      this.put(args[0], 'void *', this.bstr(obj.payload));
      return 0;
    }
    const fail = this.options.failCall;
    if (fail !== undefined && fail.method === method && !['GatherWriterMetadata', 'PrepareForBackup', 'DoSnapshotSet', 'BackupComplete', 'GatherWriterStatus'].includes(method)) return fail.hr;
    return this.componentsMethod(method, args);
  }

  private asyncMethod(obj: Obj, method: string, args: unknown[]): number {
    if (method === 'Wait' || method === 'Cancel') return 0;
    obj.polls++;
    const pending = this.options.pendingPolls ?? 0;
    const result = obj.polls <= pending
      ? VSS_S_ASYNC_PENDING
      : this.options.failAsync?.method === obj.payload ? this.options.failAsync.hr : VSS_S_ASYNC_FINISHED;
    this.put(args[0], 'int32_t', result);
    return 0;
  }

  private componentsMethod(method: string, args: unknown[]): number {
    switch (method) {
      case 'QueryInterface': {
        const iid = readGuidAt(args[0] as bigint);
        if (iid !== IID_EX3 || this.options.ex3 === false) {
          this.put(args[1], 'void *', 0n);
          return E_NOINTERFACE;
        }
        this.objects.get(this.main)!.refs++;
        this.put(args[1], 'void *', this.main);
        return 0;
      }
      case 'GatherWriterMetadata': case 'PrepareForBackup': case 'DoSnapshotSet': case 'BackupComplete': case 'GatherWriterStatus':
        return this.startAsync(method, args[0]);
      case 'GetWriterMetadataCount':
        this.put(args[0], 'uint32_t', this.options.writers.length);
        return 0;
      case 'GetWriterMetadata': {
        const w = this.options.writers[args[0] as number];
        if (w === undefined) return E_UNEXPECTED;
        this.put(args[1], FakeGuid, guidValue(w.instanceId));
        this.put(args[2], 'void *', this.object('IVssExamineWriterMetadata', w.xml));
        return 0;
      }
      case 'GetWriterStatusCount':
        this.put(args[0], 'uint32_t', this.statuses().length);
        return 0;
      case 'GetWriterStatus': case 'GetWriterStatusEx': {
        const s = this.statuses()[args[0] as number];
        if (s === undefined) return E_UNEXPECTED;
        this.put(args[1], FakeGuid, guidValue(s.instanceId));
        this.put(args[2], FakeGuid, guidValue(s.writerId));
        this.put(args[3], 'void *', this.bstr(s.name));
        this.put(args[4], 'int32_t', s.state);
        this.put(args[5], 'int32_t', s.failure);
        if (method === 'GetWriterStatusEx') {
          this.put(args[6], 'int32_t', 0);
          this.put(args[7], 'void *', s.applicationMessage === undefined ? 0n : this.bstr(s.applicationMessage));
        }
        return 0;
      }
      case 'StartSnapshotSet':
        this.put(args[0], FakeGuid, guidValue(this.snapshotSetId));
        return 0;
      case 'AddToSnapshotSet': {
        const id = `aaaaaaaa-0000-4000-8000-${String(this.snapshots.size + 1).padStart(12, '0')}`;
        this.snapshots.set(id, args[0] as string);
        this.put(args[2], FakeGuid, guidValue(id));
        return 0;
      }
      case 'GetSnapshotProperties': {
        const id = args[0] as string;
        const volume = this.snapshots.get(id);
        if (volume === undefined) return 0x80042308 | 0;
        const p = args[1] as bigint;
        koffi.encode(p, 0, FakeGuid, guidValue(id));
        koffi.encode(p, 16, FakeGuid, guidValue(this.snapshotSetId));
        koffi.encode(p, 32, 'int32_t', this.snapshots.size);
        koffi.encode(p, 40, 'void *', this.wideString(`\\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopy${id.slice(-2)}`));
        koffi.encode(p, 48, 'void *', this.wideString(volume));
        return 0;
      }
      case 'SaveAsXML':
        this.put(args[0], 'void *', this.bstr(this.options.backupComponentsXml ?? this.backupComponentsDocument()));
        return 0;
      case 'DeleteSnapshots':
        this.put(args[3], 'int32_t', this.snapshots.size);
        return 0;
      default:
        return 0;
    }
  }

  /** What VSS would write: the added components, marked succeeded where SetBackupSucceeded said so. */
  private backupComponentsDocument(): string {
    const added = this.argsOf('AddComponent');
    const succeeded = this.argsOf('SetBackupSucceeded');
    const byWriter = new Map<string, string[]>();
    for (const [instance, writer, , path, name] of added) {
      const ok = succeeded.some((s) => s[1] === writer && s[3] === path && s[4] === name && s[5] === true);
      const lp = path === null ? '' : ` logicalPath="${String(path)}"`;
      const list = byWriter.get(`${String(instance)} ${String(writer)}`) ?? [];
      list.push(`<COMPONENT${lp} componentName="${String(name)}" componentType="filegroup"${ok ? ' backupSucceeded="yes"' : ''}/>`);
      byWriter.set(`${String(instance)} ${String(writer)}`, list);
    }
    const writers = [...byWriter].map(([k, list]) => {
      const [instance, writer] = k.split(' ');
      return `<WRITER_COMPONENTS instanceId="${instance!}" writerId="${writer!}" backupSchema="0">${list.join('')}</WRITER_COMPONENTS>`;
    });
    return `<BACKUP_COMPONENTS xmlns="x-schema:#VssComponentMetadata" version="1.2" bootableSystemStateBackup="yes" selectComponents="yes" backupType="full" partialFileSupport="no" snapshotSetId="${this.snapshotSetId}">${writers.join('')}</BACKUP_COMPONENTS>`;
  }
}
