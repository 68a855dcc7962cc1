/**
 * Ranks candidate drivers for one PnP device the way Windows setup does ("How Windows ranks
 * drivers", identifier score), so the appliance injects the driver Windows itself would pick:
 *   0x0000 + i  the device's hardware ID #i is the INF's hardware ID
 *   0x1000 + i  the device's hardware ID #i is one of the INF's compatible IDs
 *   0x2000 + i  the device's compatible ID #i is the INF's hardware ID
 *   0x3000 + i  the device's compatible ID #i is one of the INF's compatible IDs
 * Lower is better. Windows lists a device's IDs most specific first; we also compare how specific
 * the matched ID is (PCI\VEN&DEV&SUBSYS&REV beats PCI\VEN&DEV) so an unordered list ranks the same.
 * Ties: the more specific TargetOS decoration, then the newer DriverVer date, then the higher version.
 * Only models sections Windows would read on the target architecture/OS are considered (inf.ts devicesFor).
 */
import { compareDecorations, devicesFor, isBootCritical } from './inf.ts';
import type { InfDevice, InfPackage, InfTarget } from './inf.ts';

export interface PnpDeviceIds {
  /** Most specific first, as Windows reports them (e.g. PCI\VEN_1AF4&DEV_1001&SUBSYS_00021AF4&REV_00 first). */
  readonly hardwareIds: readonly string[];
  readonly compatibleIds?: readonly string[];
}

export interface CandidateDriver {
  /** Where the INF came from (a path); also the last tie-breaker, so ranking is deterministic. */
  readonly source: string;
  readonly inf: InfPackage;
}

export type IdRole = 'hardware' | 'compatible';

export interface DriverMatch {
  readonly source: string;
  readonly inf: InfPackage;
  /** The best-matching device line of that INF. */
  readonly device: InfDevice;
  /** Windows-style identifier score (lower is better). */
  readonly rank: number;
  readonly matchedId: string;
  readonly deviceIdRole: IdRole;
  /** Position of the matched ID in the device's list of that role (0 = most specific). */
  readonly deviceIdIndex: number;
  readonly infIdRole: IdRole;
  /** Qualifiers in the matched ID: 4 for PCI\VEN&DEV&SUBSYS&REV, 2 for PCI\VEN&DEV. */
  readonly specificity: number;
  readonly bootCritical: boolean;
  /** Why this driver matched, for logs and the operator. */
  readonly reasons: readonly string[];
}

/** Number of `&`-separated qualifiers after the enumerator (`PCI\`, `ACPI\`, …). */
export function idSpecificity(id: string): number {
  const slash = id.indexOf('\\');
  return id.slice(slash + 1).split('&').filter((p) => p !== '').length;
}

const normalize = (id: string) => id.trim().toUpperCase();

const ROLE_BASE: Record<`${IdRole}-${IdRole}`, number> = {
  'hardware-hardware': 0x0000,
  'hardware-compatible': 0x1000,
  'compatible-hardware': 0x2000,
  'compatible-compatible': 0x3000,
};

interface Hit { device: InfDevice; id: string; deviceRole: IdRole; index: number; infRole: IdRole }

/** The best (lowest-rank) way the INF's device line matches the machine's device. */
function bestHit(ids: PnpDeviceIds, device: InfDevice): Hit | undefined {
  const infIds: [string, IdRole][] = [[normalize(device.hardwareId), 'hardware'],
    ...device.compatibleIds.map((c): [string, IdRole] => [normalize(c), 'compatible'])];
  const lists: [readonly string[], IdRole][] = [[ids.hardwareIds, 'hardware'], [ids.compatibleIds ?? [], 'compatible']];
  let best: Hit | undefined;
  for (const [list, deviceRole] of lists) {
    list.forEach((raw, index) => {
      const id = normalize(raw);
      for (const [infId, infRole] of infIds) {
        if (infId !== id) continue;
        const hit = { device, id: raw.trim(), deviceRole, index, infRole };
        if (best === undefined || compareHits(hit, best) < 0) best = hit;
      }
    });
  }
  return best;
}

const rankOf = (h: Hit) => ROLE_BASE[`${h.deviceRole}-${h.infRole}`] + h.index;

function compareHits(a: Hit, b: Hit): number {
  return (ROLE_BASE[`${a.deviceRole}-${a.infRole}`] - ROLE_BASE[`${b.deviceRole}-${b.infRole}`])
    || (idSpecificity(b.id) - idSpecificity(a.id))
    || (a.index - b.index)
    || compareDecorations(b.device.decoration, a.device.decoration);
}

/** Dotted versions compare part by part as numbers ("62.91.104.22100" > "62.91.104.9"). */
function compareVersions(a: string | undefined, b: string | undefined): number {
  const pa = (a ?? '').split('.').map((p) => Number.parseInt(p, 10) || 0);
  const pb = (b ?? '').split('.').map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function compareMatches(a: DriverMatch & { hit: Hit }, b: DriverMatch & { hit: Hit }): number {
  const dateA = a.inf.version.driverVer?.isoDate ?? '';
  const dateB = b.inf.version.driverVer?.isoDate ?? '';
  return compareHits(a.hit, b.hit)
    || (dateA < dateB ? 1 : dateA > dateB ? -1 : 0)
    || compareVersions(b.inf.version.driverVer?.version, a.inf.version.driverVer?.version)
    || (a.source < b.source ? -1 : a.source > b.source ? 1 : 0);
}

function explain(hit: Hit, inf: InfPackage, bootCritical: boolean, target: InfTarget): string[] {
  const roleText = hit.deviceRole === 'hardware' ? 'hardware' : 'compatible';
  const reasons = [
    `device ${roleText} ID #${hit.index + 1} ${hit.id} is the INF's ${hit.infRole === 'hardware' ? 'hardware ID' : 'compatible ID'} ` +
      `(rank 0x${rankOf(hit).toString(16).padStart(4, '0')}, ${idSpecificity(hit.id)} qualifiers)`,
    `models section [${hit.device.modelsSection}] applies to ${target.arch}`,
  ];
  const ver = inf.version.driverVer;
  if (ver !== undefined) reasons.push(`DriverVer ${ver.isoDate ?? ver.date}, ${ver.version ?? 'no version'}`);
  if (bootCritical) reasons.push('boot-critical: its function driver service starts at boot (StartType 0)');
  return reasons;
}

/** Candidates that match the device, best first; one entry per candidate (its best device line). */
export function rankDrivers(ids: PnpDeviceIds, candidates: readonly CandidateDriver[], target: InfTarget): DriverMatch[] {
  const matches: (DriverMatch & { hit: Hit })[] = [];
  for (const candidate of candidates) {
    let best: Hit | undefined;
    for (const device of devicesFor(candidate.inf, target)) {
      const hit = bestHit(ids, device);
      if (hit !== undefined && (best === undefined || compareHits(hit, best) < 0)) best = hit;
    }
    if (best === undefined) continue;
    const bootCritical = isBootCritical(candidate.inf, best.device, target.arch);
    matches.push({
      source: candidate.source, inf: candidate.inf, device: best.device, rank: rankOf(best), matchedId: best.id,
      deviceIdRole: best.deviceRole, deviceIdIndex: best.index, infIdRole: best.infRole,
      specificity: idSpecificity(best.id), bootCritical, reasons: explain(best, candidate.inf, bootCritical, target), hit: best,
    });
  }
  return matches.sort(compareMatches).map(({ hit: _hit, ...match }) => match);
}
