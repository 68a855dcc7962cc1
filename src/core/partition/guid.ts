/**
 * Mixed-endian GUIDs as GPT (UEFI §5.3, Appendix A) and Windows' GUID struct store them: the first
 * three groups are little-endian u32/u16/u16, the last eight bytes are stored as written.
 *   c12a7328-f81f-11d2-ba4b-00a0c93ec93b  <->  28 73 2a c1 | 1f f8 | d2 11 | ba 4b | 00 a0 c9 3e c9 3b
 * The canonical text form here is lower case without braces.
 */
import { RecoveryError } from '../errors.ts';

export const ZERO_GUID = '00000000-0000-0000-0000-000000000000';

/** Well-known partition type GUIDs (Windows diskguid.h, UEFI spec, Discoverable Partitions Spec). */
export const GPT_TYPE = {
  efiSystem: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b',
  microsoftReserved: 'e3c9e316-0b5c-4db8-817d-f92df00215ae',
  basicData: 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7',
  windowsRecovery: 'de94bba4-06d1-4d40-a16a-bfd50179d6ac',
  ldmMetadata: '5808c8aa-7e8f-42e0-85d2-e1e90434cfb3',
  ldmData: 'af9b60a0-1431-4f62-bc68-3311714a69ad',
  storageSpaces: 'e75caf8f-f680-4cee-afa3-b001e56efc2d',
  clusterMetadata: 'db97dba9-0840-4bae-97f0-ffb9a327c7e1',
  biosBoot: '21686148-6449-6e6f-744e-656564454649',
  linuxFilesystem: '0fc63daf-8483-4772-8e79-3d69d8477de4',
  linuxSwap: '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f',
  linuxLvm: 'e6d6d379-f507-44c2-a23c-238f2a3df928',
  linuxRaid: 'a19d880f-05fc-4d3b-a006-743f0f84911e',
  linuxHome: '933ac7e1-2eb4-4f13-b844-0e14e2aef915',
} as const;

const GUID_TEXT = /^\{?([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}?$/i;

/** True for "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" in any case, with or without matching braces. */
export function isGuid(text: string): boolean {
  const m = GUID_TEXT.exec(text);
  return m !== null && text.startsWith('{') === text.endsWith('}');
}

/** The canonical form (lower case, no braces); throws RecoveryError('guid.invalid') on bad text. */
export function normalizeGuid(text: string): string {
  if (!isGuid(text)) {
    throw new RecoveryError('guid.invalid', `not a GUID: "${text}"`, { data: { text } });
  }
  return text.replace(/[{}]/g, '').toLowerCase();
}

function hex2(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

/** Reads 16 mixed-endian bytes at `offset`. */
export function guidFromBytes(bytes: Uint8Array, offset = 0): string {
  if (offset < 0 || offset + 16 > bytes.length) {
    throw new RecoveryError('guid.out-of-range', `a GUID needs 16 bytes at offset ${offset} of ${bytes.length}`, {
      data: { offset, length: bytes.length },
    });
  }
  const b = (i: number): string => hex2(bytes[offset + i]!);
  return (
    b(3) + b(2) + b(1) + b(0) + '-' + b(5) + b(4) + '-' + b(7) + b(6) + '-' +
    b(8) + b(9) + '-' + b(10) + b(11) + b(12) + b(13) + b(14) + b(15)
  );
}

/** 16 mixed-endian bytes for a GUID in text form; throws RecoveryError('guid.invalid') on bad text. */
export function guidToBytes(guid: string): Uint8Array {
  const hex = normalizeGuid(guid).replace(/-/g, '');
  const plain = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    plain[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  }
  // Reverse the three leading groups (u32, u16, u16 little-endian); the tail stays as written.
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  return Uint8Array.from(order, (i) => plain[i]!);
}

/** True when all 16 bytes at `offset` are zero (an unused GPT slot's type GUID). */
export function isZeroGuidAt(bytes: Uint8Array, offset: number): boolean {
  for (let i = 0; i < 16; i++) {
    if (bytes[offset + i] !== 0) return false;
  }
  return true;
}
