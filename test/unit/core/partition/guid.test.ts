import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRecoveryError } from '../../../../src/core/errors.ts';
import { GPT_TYPE, guidFromBytes, guidToBytes, isGuid, normalizeGuid } from '../../../../src/core/partition/guid.ts';

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');

describe('mixed-endian GUIDs', () => {
  // On-disk bytes from the reference table (checked there with Python uuid.bytes_le).
  const known: [string, string][] = [
    [GPT_TYPE.efiSystem, '28 73 2a c1 1f f8 d2 11 ba 4b 00 a0 c9 3e c9 3b'],
    [GPT_TYPE.microsoftReserved, '16 e3 c9 e3 5c 0b b8 4d 81 7d f9 2d f0 02 15 ae'],
    [GPT_TYPE.basicData, 'a2 a0 d0 eb e5 b9 33 44 87 c0 68 b6 b7 26 99 c7'],
    [GPT_TYPE.windowsRecovery, 'a4 bb 94 de d1 06 40 4d a1 6a bf d5 01 79 d6 ac'],
    [GPT_TYPE.ldmMetadata, 'aa c8 08 58 8f 7e e0 42 85 d2 e1 e9 04 34 cf b3'],
    [GPT_TYPE.ldmData, 'a0 60 9b af 31 14 62 4f bc 68 33 11 71 4a 69 ad'],
  ];

  it.each(known)('encodes %s as the documented bytes and back', (guid, bytes) => {
    expect(hex(guidToBytes(guid))).toBe(bytes);
    const raw = Uint8Array.from(bytes.split(' '), (b) => parseInt(b, 16));
    expect(guidFromBytes(raw)).toBe(guid);
  });

  it('reads at an offset and rejects a range past the end', () => {
    const buf = new Uint8Array(40);
    buf.set(guidToBytes(GPT_TYPE.basicData), 20);
    expect(guidFromBytes(buf, 20)).toBe(GPT_TYPE.basicData);
    expect(() => guidFromBytes(buf, 30)).toThrow(/16 bytes/);
  });

  it('round-trips any 16 bytes and any canonical text', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const text = guidFromBytes(bytes);
        expect(isGuid(text)).toBe(true);
        expect(text).toBe(text.toLowerCase());
        expect(guidToBytes(text)).toEqual(bytes);
      }),
    );
    fc.assert(
      fc.property(fc.uuid(), (uuid) => {
        expect(guidFromBytes(guidToBytes(uuid))).toBe(uuid.toLowerCase());
      }),
    );
  });

  it('accepts upper case and braces, and normalizes them', () => {
    expect(isGuid('{C12A7328-F81F-11D2-BA4B-00A0C93EC93B}')).toBe(true);
    expect(normalizeGuid('{C12A7328-F81F-11D2-BA4B-00A0C93EC93B}')).toBe(GPT_TYPE.efiSystem);
    expect(guidToBytes('C12A7328-F81F-11D2-BA4B-00A0C93EC93B')).toEqual(guidToBytes(GPT_TYPE.efiSystem));
  });

  it.each(['', 'c12a7328f81f11d2ba4b00a0c93ec93b', 'c12a7328-f81f-11d2-ba4b-00a0c93ec93', 'g12a7328-f81f-11d2-ba4b-00a0c93ec93b',
    '{c12a7328-f81f-11d2-ba4b-00a0c93ec93b', 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b}', ' c12a7328-f81f-11d2-ba4b-00a0c93ec93b'])(
    'rejects %j with guid.invalid', (text) => {
      expect(isGuid(text)).toBe(false);
      let caught: unknown;
      try {
        guidToBytes(text);
      } catch (e) {
        caught = e;
      }
      expect(isRecoveryError(caught) && caught.code).toBe('guid.invalid');
    });

  it('lists the type GUIDs in canonical form', () => {
    for (const guid of Object.values(GPT_TYPE)) expect(normalizeGuid(guid)).toBe(guid);
    expect(new Set(Object.values(GPT_TYPE)).size).toBe(Object.values(GPT_TYPE).length);
  });
});
