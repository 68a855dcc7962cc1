/**
 * Calling COM methods through koffi: read the vtable pointer at *obj, the function pointer at slot i,
 * and call it with `obj` as the first argument. Pointers are BigInt (koffi 3). Also the value
 * conversions a VSS requester needs: GUID text ↔ GUID struct / 16 bytes, BSTR and UTF-16 strings.
 */
import koffi, { type TypeObject } from 'koffi';
import { RecoveryError } from '../../../core/errors.ts';
import { guidFromBytes, guidToBytes, normalizeGuid } from '../../../core/partition/guid.ts';
import { formatHresult } from '../../../core/vss/hresult.ts';

export type ComPtr = bigint;

export interface GuidStruct {
  readonly Data1: number;
  readonly Data2: number;
  readonly Data3: number;
  readonly Data4: readonly number[] | Uint8Array;
}

export const GUID_NULL = '00000000-0000-0000-0000-000000000000';

function pointerAt(address: ComPtr, offset: number): ComPtr {
  const p = koffi.decode(address, offset, 'void *') as bigint | null;
  return p ?? 0n;
}

/** The function pointer in slot `slot` of the object's vtable. */
export function vtableSlot(obj: ComPtr, slot: number): ComPtr {
  if (obj === 0n) throw new RecoveryError('vss.null-pointer', 'a COM call on a null interface pointer', { data: { slot } });
  const vtable = pointerAt(obj, 0);
  const fn = pointerAt(vtable, slot * 8);
  if (fn === 0n) throw new RecoveryError('vss.null-pointer', `vtable slot ${slot} is empty`, { data: { slot } });
  return fn;
}

/** Calls method `slot` of `obj`; returns what it returns (an HRESULT for most methods). */
export function comCall(obj: ComPtr, slot: number, proto: TypeObject, ...args: unknown[]): number {
  return koffi.call(vtableSlot(obj, slot), proto, obj, ...args) as number;
}

/** The error for a failed method: vss.call-failed with data {method, hresult}. */
export function callFailed(method: string, hr: number): RecoveryError {
  return new RecoveryError('vss.call-failed', `${method} returned ${formatHresult(hr)}`, { data: { method, hresult: formatHresult(hr), hr } });
}

export function guidStruct(text: string): GuidStruct {
  const b = guidToBytes(text);
  const v = new DataView(b.buffer, b.byteOffset, 16);
  return { Data1: v.getUint32(0, true), Data2: v.getUint16(4, true), Data3: v.getUint16(6, true), Data4: Array.from(b.subarray(8, 16)) };
}

export function guidFromStruct(g: GuidStruct): string {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint32(0, g.Data1, true);
  v.setUint16(4, g.Data2, true);
  v.setUint16(6, g.Data3, true);
  b.set(Array.from(g.Data4), 8);
  return guidFromBytes(b);
}

/** A GUID written into a caller buffer by an out parameter. */
export function guidFromBuffer(buffer: Uint8Array, offset = 0): string {
  return guidFromBytes(buffer, offset);
}

export function guidBuffer(text: string): Uint8Array {
  return guidToBytes(normalizeGuid(text));
}

/** A BSTR's text: its byte length is the u32 just before the first character. */
export function readBstr(bstr: ComPtr): string {
  if (bstr === 0n) return '';
  const bytes = koffi.decode(bstr - 4n, 'uint32_t') as number;
  if (bytes === 0) return '';
  // As code units, not as a C string: a BSTR may hold NULs before its end.
  const units = koffi.decode(bstr, 'uint16_t', Math.floor(bytes / 2)) as Uint16Array;
  let text = '';
  for (let i = 0; i < units.length; i += 8192) text += String.fromCharCode(...units.subarray(i, i + 8192));
  return text;
}

/** One out-pointer slot (IVssAsync **, BSTR *, …) as a buffer koffi passes by address. */
export function outPointer(): BigUint64Array {
  return new BigUint64Array(1);
}

export function outValue(cell: BigUint64Array): ComPtr {
  return cell[0] ?? 0n;
}
