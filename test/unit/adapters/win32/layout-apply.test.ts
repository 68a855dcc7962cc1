/**
 * applyPartitionTable against an emulated Windows disk driver on an image file. The emulator reads
 * our buffers with koffi.decode (not our decoder) and writes what Windows would:
 *   CREATE_DISK MBR   signature, empty slots, 0x55AA; boot code kept (as ReactOS fstubex.c does)
 *   CREATE_DISK GPT   remembered; the GPT is written with the layout (one sgdisk run)
 *   SET_DRIVE_LAYOUT  GPT: sgdisk -o -U … -n/-t/-u/-c/-A per entry, entries packed 1..n;
 *                     MBR: one table sector per group of four entries, containers chaining the
 *                     groups, offsets made relative as the classic IoWritePartitionTable does
 *   GET_DRIVE_LAYOUT  the last layout set, renumbered 1..n without rewrite flags
 * The result is checked with sgdisk -i / sfdisk --json, and the read-back check must catch a
 * driver that writes something else.
 */
import koffi from 'koffi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageFileDevice } from '../../../../src/adapters/linux/image-file.ts';
import { Win32CallError } from '../../../../src/adapters/win32/kernel32.ts';
import { applyPartitionTable } from '../../../../src/adapters/win32/layout-apply.ts';
import type { LayoutDisk } from '../../../../src/adapters/win32/layout-apply.ts';
import * as S from '../../../../src/adapters/win32/structs.ts';
import { isExtendedType } from '../../../../src/core/partition/mbr.ts';
import { readPartitionTable } from '../../../../src/core/partition/read-table.ts';
import type { MbrTable, PartitionTable } from '../../../../src/core/partition/types.ts';
import { createImage, geometryOf, imageReader, readBytes, sfdiskJson, sgdisk, sgdiskInfo, writeBytes } from '../../../helpers/partition-images.ts';
import { tempDir } from '../../../helpers/run.ts';
import { LAYOUT_DISK_BYTES, LAYOUT_DISK_GUID, LAYOUT_MBR_SIGNATURE, makeGptTableImage, makeMbrTableImage } from './layout-fixtures.ts';

type KGuid = { Data1: number; Data2: number; Data3: number; Data4: ArrayLike<number> };
type KEntry = {
  StartingOffset: bigint | number; PartitionLength: bigint | number; PartitionNumber: number; RewritePartition: number;
  u: { Mbr: { PartitionType: number; BootIndicator: number }; Gpt: { PartitionType: KGuid; PartitionId: KGuid; Attributes: bigint | number; Name: string } };
};

function guidText(g: KGuid): string {
  const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');
  const d4 = Array.from(g.Data4, (b) => hex(b, 2)).join('');
  return `${hex(g.Data1, 8)}-${hex(g.Data2, 4)}-${hex(g.Data3, 4)}-${d4.slice(0, 4)}-${d4.slice(4)}`;
}

const HEADER = koffi.offsetof(S.DRIVE_LAYOUT_INFORMATION_EX, 'PartitionEntry');
const STRIDE = koffi.sizeof(S.PARTITION_INFORMATION_EX);

class EmulatedWindowsDisk implements LayoutDisk {
  readonly calls: string[] = [];
  failing: { code: number; error: number } | undefined;
  /** Changes the layout before the "driver" writes it (a buggy or lying driver). */
  tamper: ((entries: KEntry[]) => void) | undefined;
  private gptDiskId: string | undefined;
  private lastLayout: Uint8Array | undefined;

  constructor(private readonly device: ImageFileDevice, private readonly image: string) {}

  get path() { return this.device.path; }
  get geometry() { return this.device.geometry; }
  get readOnly() { return this.device.readOnly; }
  read(offset: bigint, length: number) { return this.device.read(offset, length); }
  write(offset: bigint, data: Uint8Array) { return this.device.write(offset, data); }
  flush() { return this.device.flush(); }
  close() { return this.device.close(); }

  async ioctl(code: number, input: Uint8Array | null): Promise<Uint8Array> {
    this.calls.push(`0x${code.toString(16)}`);
    if (this.failing?.code === code) throw new Win32CallError(`DeviceIoControl(0x${code.toString(16)})`, this.failing.error, this.path);
    if (code === S.IOCTL.DISK_CREATE_DISK) await this.createDisk(input!);
    else if (code === S.IOCTL.DISK_SET_DRIVE_LAYOUT_EX) await this.setLayout(input!);
    else if (code === S.IOCTL.DISK_GET_DRIVE_LAYOUT_EX) return this.lastLayout!;
    else if (code !== S.IOCTL.DISK_UPDATE_PROPERTIES) throw new Win32CallError('DeviceIoControl', 1, this.path);
    return new Uint8Array(0);
  }

  private async createDisk(input: Uint8Array): Promise<void> {
    const cd = koffi.decode(input, S.CREATE_DISK) as { PartitionStyle: number; u: { Mbr: { Signature: number }; Gpt: { DiskId: KGuid } } };
    if (cd.PartitionStyle === 1) {
      this.gptDiskId = guidText(cd.u.Gpt.DiskId);
      return;
    }
    const sector = await readBytes(this.image, 0n, 512);
    const view = new DataView(sector.buffer);
    view.setUint32(440, cd.u.Mbr.Signature, true);
    sector.fill(0, 446, 510);
    view.setUint16(510, 0xaa55, true);
    await writeBytes(this.image, 0n, sector);
  }

  private async setLayout(input: Uint8Array): Promise<void> {
    const header = koffi.decode(input, S.DRIVE_LAYOUT_INFORMATION_EX) as { PartitionStyle: number; PartitionCount: number };
    const entries = Array.from({ length: header.PartitionCount }, (_, i) => koffi.decode(input, HEADER + STRIDE * i, S.PARTITION_INFORMATION_EX) as KEntry);
    this.tamper?.(entries);
    if (header.PartitionStyle === 1) await this.writeGpt(entries);
    else await this.writeMbr(entries);
    const answer = input.slice();
    entries.forEach((e, i) => {
      const at = HEADER + STRIDE * i;
      new DataView(answer.buffer).setBigInt64(at + 8, BigInt(e.StartingOffset), true);
      new DataView(answer.buffer).setUint32(at + 24, header.PartitionStyle === 1 ? i + 1 : e.PartitionNumber, true);
      answer[at + 28] = 0;
    });
    this.lastLayout = answer;
  }

  private async writeGpt(entries: KEntry[]): Promise<void> {
    const args = ['-o', '-U', this.gptDiskId!];
    entries.forEach((e, i) => {
      const n = i + 1;
      const first = BigInt(e.StartingOffset) / 512n;
      const last = (BigInt(e.StartingOffset) + BigInt(e.PartitionLength)) / 512n - 1n;
      args.push('-n', `${n}:${first}:${last}`, '-t', `${n}:${guidText(e.u.Gpt.PartitionType)}`, '-u', `${n}:${guidText(e.u.Gpt.PartitionId)}`, '-c', `${n}:${e.u.Gpt.Name}`);
      for (let bit = 0n; bit < 64n; bit++) if ((BigInt(e.u.Gpt.Attributes) >> bit) & 1n) args.push('-A', `${n}:set:${bit}`);
    });
    await sgdisk([...args, this.image]);
  }

  private async writeMbr(entries: KEntry[]): Promise<void> {
    let offset = 0n;
    let extended = 0n;
    for (let group = 0; group * 4 < entries.length; group++) {
      const sector = await readBytes(this.image, offset, 512);
      const view = new DataView(sector.buffer);
      let next: bigint | undefined;
      for (let j = 0; j < 4; j++) {
        const e = entries[group * 4 + j]!;
        const type = e.u.Mbr.PartitionType;
        if (isExtendedType(type)) next = BigInt(e.StartingOffset);
        if (e.RewritePartition === 0) continue;
        const at = 446 + 16 * j;
        sector.fill(0, at, at + 16);
        if (type === 0) continue;
        const base = group === 0 || !isExtendedType(type) ? offset : extended;
        view.setUint8(at, e.u.Mbr.BootIndicator !== 0 ? 0x80 : 0);
        view.setUint8(at + 4, type);
        view.setUint32(at + 8, Number((BigInt(e.StartingOffset) - base) / 512n), true);
        view.setUint32(at + 12, Number(BigInt(e.PartitionLength) / 512n), true);
      }
      view.setUint16(510, 0xaa55, true);
      await writeBytes(this.image, offset, sector);
      if (next === undefined) break;
      if (group === 0) extended = next;
      offset = next;
    }
  }
}

let dir: { path: string; cleanup: () => Promise<void> };
let gptSource: string;
let mbrSource: string;

beforeAll(async () => {
  dir = await tempDir('lifeline-apply-');
  gptSource = await makeGptTableImage(dir.path, 'gpt-source.img');
  mbrSource = await makeMbrTableImage(dir.path, 'mbr-source.img');
}, 60_000);

afterAll(async () => {
  await dir.cleanup();
});

async function tableOf(image: string): Promise<PartitionTable> {
  return (await readPartitionTable(imageReader(image, 512), geometryOf(LAYOUT_DISK_BYTES))).table!;
}

let targets = 0;
async function target(): Promise<EmulatedWindowsDisk> {
  const image = await createImage(dir.path, `target-${targets++}.img`, LAYOUT_DISK_BYTES);
  // Old boot code and a stale table, as a used disk would have.
  await writeBytes(image, 0n, Uint8Array.from({ length: 512 }, (_, i) => (i < 446 ? 0xcc : 0)));
  return new EmulatedWindowsDisk(await ImageFileDevice.open(image, { writable: true }), image);
}

const rejectionOf = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a rejection'); }, (e: unknown) => e as { code: string; data: Record<string, unknown> });

describe('applyPartitionTable through an emulated Windows disk driver', () => {
  it('reproduces a GPT disk: disk GUID, partition GUIDs, types, attributes and names, as sgdisk reads them', async () => {
    const disk = await target();
    try {
      const result = await applyPartitionTable(disk, await tableOf(gptSource));
      expect(result.steps).toEqual(['create-disk', 'set-drive-layout', 'update-properties', 'flush', 'read-back']);
      expect(result.warnings).toEqual([]);
      expect(disk.calls).toEqual([S.IOCTL.DISK_CREATE_DISK, S.IOCTL.DISK_SET_DRIVE_LAYOUT_EX, S.IOCTL.DISK_UPDATE_PROPERTIES, S.IOCTL.DISK_GET_DRIVE_LAYOUT_EX].map((c) => `0x${c.toString(16)}`));
      expect((await sgdisk(['-p', disk.path])).toLowerCase()).toContain(`disk identifier (guid): ${LAYOUT_DISK_GUID}`);
      for (const n of [1, 2, 3, 4]) expect(await sgdiskInfo(disk.path, n)).toEqual(await sgdiskInfo(gptSource, n));
    } finally {
      await disk.close();
    }
  });

  it('reproduces an MBR disk with logical partitions and its boot code, as sfdisk reads it', async () => {
    const disk = await target();
    try {
      const source = (await tableOf(mbrSource)) as MbrTable;
      const bootCode = Uint8Array.from({ length: 440 }, (_, i) => (i * 7 + 1) & 0xff);
      const result = await applyPartitionTable(disk, { ...source, bootCode });
      expect(result.steps).toEqual(['create-disk', 'set-drive-layout', 'boot-code', 'update-properties', 'flush', 'read-back']);
      const [got, want] = [await sfdiskJson(disk.path), await sfdiskJson(mbrSource)];
      expect(got.id).toBe(`0x${LAYOUT_MBR_SIGNATURE.toString(16)}`);
      const strip = (t: typeof got) => t.partitions.map((p) => ({ n: /(\d+)$/.exec(p.node)![1], start: p.start, size: p.size, type: p.type, bootable: p.bootable ?? false }));
      expect(strip(got)).toEqual(strip(want));
      expect([...(await readBytes(disk.path, 0n, 440))]).toEqual([...bootCode]);
    } finally {
      await disk.close();
    }
  });

  it('refuses success when the disk reads back different from the table', async () => {
    const disk = await target();
    try {
      disk.tamper = (entries) => {
        entries[1]!.PartitionLength = BigInt(entries[1]!.PartitionLength) - 1048576n;
      };
      const error = await rejectionOf(applyPartitionTable(disk, await tableOf(gptSource)));
      expect(error.code).toBe('layout.readback-mismatch');
      expect(error.data.done).toEqual(['create-disk', 'set-drive-layout', 'update-properties', 'flush', 'read-back']);
      const problems = error.data.problems as { code: string; data?: { number?: number; field?: string } }[];
      expect(problems.filter((p) => p.code === 'layout.mismatch').map((p) => [p.data?.number, p.data?.field])).toContainEqual([2, 'lastLba']);
    } finally {
      await disk.close();
    }
  });

  it('names the failed step and what was already done', async () => {
    const disk = await target();
    try {
      disk.failing = { code: S.IOCTL.DISK_SET_DRIVE_LAYOUT_EX, error: 5 };
      const error = await rejectionOf(applyPartitionTable(disk, await tableOf(gptSource)));
      expect([error.code, error.data.step, error.data.done, error.data.win32Error]).toEqual(['layout.write-failed', 'set-drive-layout', ['create-disk'], 5]);
    } finally {
      await disk.close();
    }
  });

  it('sends nothing for a table the IOCTLs cannot express', async () => {
    const disk = await target();
    try {
      const source = (await tableOf(mbrSource)) as MbrTable;
      const hybrid: MbrTable = { ...source, primary: source.primary.map((e) => (e.number === 4 ? { ...e, type: 0xee, startLba: 1n, sectorCount: 2047n } : e)) };
      expect((await rejectionOf(applyPartitionTable(disk, hybrid))).code).toBe('layout.unsupported');
      expect(disk.calls).toEqual([]);
    } finally {
      await disk.close();
    }
  });
});
