/**
 * Which ASR components, volumes and disks a bare-metal backup takes (seed 001, "Choosing Which
 * Critical Components to Back Up"), from the ASR writer's metadata plus what the agent saw on the
 * live system (volume extents from IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS, boot/system/WinRE roles).
 *
 * Rules, in the order they are applied:
 *   1. A volume is critical when ASR reports it so (not selectable, not VSS_CF_NOT_SYSTEM_STATE), when
 *      it is the boot, system or WinRE volume, or when it holds another writer's system-state files.
 *   2. Every disk holding an extent of a critical volume is critical.
 *   3. Disks the user excluded are left out — unless critical: vss.critical-disk-excluded.
 *   4. A dynamic pack is taken whole or not at all: vss.dynamic-pack-split otherwise.
 *   5. The disk holding a local backup target stays an ASR disk component (ASR: "if the disk that
 *      contains the requester's backup set is a local disk, this disk must be included") but its
 *      data is not imaged, and the restore point marks it to be excluded at restore so the backup
 *      is never overwritten. A target on a critical volume is refused (vss.backup-target-critical);
 *      a target volume on a critical disk is skipped while the rest of that disk is imaged.
 *   6. Shadow copies are taken of the NTFS/ReFS volumes on imaged disks; the EFI system partition
 *      (hidden, never in a shadow copy) and other volumes VSS cannot snapshot are read live.
 * Components added: "ASR", one "Disks\harddisk<n>" per included disk, one "Volumes\Volume{GUID}" per
 * ASR volume on an included disk (critical ones always), and "BCD\BCD" when it is selectable.
 */
import { RecoveryError } from '../errors.ts';
import { normalizeGuid } from '../partition/guid.ts';
import { ASR_WRITER_ID, type AsrMetadata, type WriterComponent } from './writer-metadata.ts';

export type VolumeRole = 'boot' | 'system' | 'winre';

export interface LiveVolume {
  /** Volume GUID (the {…} of \\?\Volume{…}\). */
  readonly guid: string;
  readonly roles: readonly VolumeRole[];
  /** Disk numbers holding an extent of the volume. */
  readonly disks: readonly number[];
  /** "ntfs", "refs", "fat32", … (lower case). */
  readonly filesystem: string;
  /** The EFI system partition: hidden and never shadow-copied. */
  readonly esp: boolean;
}

export interface CriticalSelectionInput {
  readonly asr: AsrMetadata;
  readonly volumes: readonly LiveVolume[];
  /** Every fixed disk on the machine. */
  readonly fixedDisks: readonly number[];
  /** Disks the user asked to leave out. */
  readonly excludedDisks?: readonly number[];
  /** Where a local backup set is written, if it is local. */
  readonly backupTarget?: { readonly volumeGuid: string; readonly disks: readonly number[] };
  /** Volumes holding other writers' system-state files (resolved by the agent from their metadata). */
  readonly systemStateVolumes?: readonly string[];
  /** Dynamic disk packs, each as its disk numbers. */
  readonly dynamicPacks?: readonly (readonly number[])[];
}

export type CriticalReason = 'asr' | VolumeRole | 'system-state';

export interface ComponentRef {
  readonly writerId: string;
  readonly logicalPath: string;
  readonly name: string;
  readonly type: 'filegroup' | 'database';
}

export type DiskDecision = 'critical' | 'included' | 'user-excluded' | 'backup-target';

export interface CriticalSelection {
  readonly criticalVolumes: readonly { readonly guid: string; readonly reasons: readonly CriticalReason[] }[];
  readonly criticalDisks: readonly number[];
  readonly disks: readonly { readonly number: number; readonly decision: DiskDecision }[];
  /** AddComponent calls for the ASR writer, in order. */
  readonly components: readonly ComponentRef[];
  /** \\?\Volume{…}\ paths for AddToSnapshotSet. */
  readonly snapshotVolumes: readonly string[];
  /** \\?\Volume{…}\ paths read from the live volume (no shadow copy possible). */
  readonly liveVolumes: readonly string[];
  /** Disks whose blocks the agent images. */
  readonly imageDisks: readonly number[];
  /** Volumes on imaged disks whose data is not imaged (a local backup target). */
  readonly skipVolumes: readonly string[];
  /** Disks the restore must leave alone (they hold the backup set). */
  readonly restoreExcludedDisks: readonly number[];
  readonly warnings: readonly string[];
}

const volumePath = (guid: string): string => `\\\\?\\Volume{${guid}}\\`;
const sortNumbers = (xs: Iterable<number>): number[] => [...new Set(xs)].sort((a, b) => a - b);
const SNAPSHOT_FILESYSTEMS = new Set(['ntfs', 'refs']);

function ref(c: WriterComponent): ComponentRef {
  return { writerId: ASR_WRITER_ID, logicalPath: c.logicalPath, name: c.name, type: c.type };
}

function criticalVolumes(input: CriticalSelectionInput, live: ReadonlyMap<string, LiveVolume>): Map<string, CriticalReason[]> {
  const critical = new Map<string, CriticalReason[]>();
  const add = (guid: string, reason: CriticalReason): void => {
    const reasons = critical.get(guid) ?? [];
    if (!reasons.includes(reason)) reasons.push(reason);
    critical.set(guid, reasons);
  };
  for (const v of input.asr.volumes) if (v.critical) add(v.guid, 'asr');
  for (const v of live.values()) for (const role of v.roles) add(v.guid, role);
  for (const g of input.systemStateVolumes ?? []) add(normalizeGuid(g), 'system-state');
  return critical;
}

/** Applies the rules above; throws RecoveryError with the codes named there. */
export function selectCriticalComponents(input: CriticalSelectionInput): CriticalSelection {
  const live = new Map(input.volumes.map((v) => [normalizeGuid(v.guid), { ...v, guid: normalizeGuid(v.guid) }]));
  const critical = criticalVolumes(input, live);
  const warnings: string[] = [];

  // 2. critical disks
  const criticalDisks = new Set<number>();
  for (const guid of critical.keys()) {
    const v = live.get(guid);
    if (v === undefined || v.disks.length === 0) {
      throw new RecoveryError('vss.critical-volume-not-found', `critical volume ${volumePath(guid)} was not found on this machine (no disk extents)`, {
        data: { volume: guid, reasons: critical.get(guid) },
      });
    }
    for (const d of v.disks) criticalDisks.add(d);
  }

  // 3. user exclusions
  const excluded = new Set(input.excludedDisks ?? []);
  const clash = sortNumbers([...excluded].filter((d) => criticalDisks.has(d)));
  if (clash.length > 0) {
    const volumes = [...critical.keys()].filter((g) => live.get(g)?.disks.some((d) => clash.includes(d)));
    throw new RecoveryError('vss.critical-disk-excluded', `disk ${clash.join(', ')} cannot be excluded: it holds critical volume ${volumes.map(volumePath).join(', ')}`, {
      data: { disks: clash, volumes },
    });
  }
  const included = new Set([...input.fixedDisks, ...criticalDisks].filter((d) => !excluded.has(d)));

  // 4. dynamic packs
  for (const pack of input.dynamicPacks ?? []) {
    const inside = pack.filter((d) => included.has(d));
    if (inside.length > 0 && inside.length < pack.length) {
      throw new RecoveryError('vss.dynamic-pack-split', `dynamic disks ${sortNumbers(pack).join(', ')} form one pack: take all of them or none`, {
        data: { pack: sortNumbers(pack), included: sortNumbers(inside) },
      });
    }
  }

  // 5. local backup target
  const target = input.backupTarget;
  const targetGuid = target === undefined ? undefined : normalizeGuid(target.volumeGuid);
  if (targetGuid !== undefined && critical.has(targetGuid)) {
    throw new RecoveryError('vss.backup-target-critical', `the backup target ${volumePath(targetGuid)} is a critical volume; choose another target`, {
      data: { volume: targetGuid, reasons: critical.get(targetGuid) },
    });
  }
  const targetDisks = new Set(target?.disks ?? []);
  const imageDisks = sortNumbers([...included].filter((d) => !targetDisks.has(d) || criticalDisks.has(d)));
  const restoreExcludedDisks = sortNumbers([...targetDisks].filter((d) => !criticalDisks.has(d)));
  const skipVolumes: string[] = [];
  if (targetGuid !== undefined && (target?.disks ?? []).some((d) => criticalDisks.has(d))) {
    skipVolumes.push(volumePath(targetGuid));
    warnings.push(`the backup target ${volumePath(targetGuid)} is on critical disk ${sortNumbers([...targetDisks].filter((d) => criticalDisks.has(d))).join(', ')}: its data is skipped, and a restore that recreates the disk loses the local backup`);
  }

  const decision = (d: number): DiskDecision =>
    criticalDisks.has(d) ? 'critical' : excluded.has(d) ? 'user-excluded' : targetDisks.has(d) ? 'backup-target' : 'included';
  const allDisks = sortNumbers([...input.fixedDisks, ...criticalDisks, ...excluded]);

  // components
  const components: ComponentRef[] = [];
  if (input.asr.asrComponent !== undefined) components.push(ref(input.asr.asrComponent));
  else warnings.push('the ASR writer reported no "ASR" component');
  const asrDiskNumbers = new Set(input.asr.disks.map((d) => d.number));
  for (const d of input.asr.disks) if (included.has(d.number)) components.push(ref(d.component));
  for (const d of sortNumbers(included)) if (!asrDiskNumbers.has(d)) warnings.push(`disk ${d} is not in the ASR writer's metadata`);
  for (const v of input.asr.volumes) {
    const disks = live.get(v.guid)?.disks ?? [];
    if (critical.has(v.guid) || (disks.length > 0 && disks.every((d) => included.has(d)))) components.push(ref(v.component));
  }
  if (input.asr.bcd !== undefined) {
    if (input.asr.bcd.selectable) components.push(ref(input.asr.bcd));
    else warnings.push('the BCD component is not selectable (the system partition has no volume GUID name); the BCD files are imaged with the system volume');
  }

  // 6. snapshot or live read
  const snapshotVolumes: string[] = [];
  const liveVolumes: string[] = [];
  for (const v of [...live.values()].sort((a, b) => a.guid.localeCompare(b.guid))) {
    const path = volumePath(v.guid);
    if (!v.disks.some((d) => imageDisks.includes(d)) || skipVolumes.includes(path)) continue;
    if (!v.esp && SNAPSHOT_FILESYSTEMS.has(v.filesystem.toLowerCase())) snapshotVolumes.push(path);
    else liveVolumes.push(path);
  }

  return {
    criticalVolumes: [...critical.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([guid, reasons]) => ({ guid, reasons })),
    criticalDisks: sortNumbers(criticalDisks),
    disks: allDisks.map((number) => ({ number, decision: decision(number) })),
    components,
    snapshotVolumes,
    liveVolumes,
    imageDisks,
    skipVolumes,
    restoreExcludedDisks,
    warnings,
  };
}
