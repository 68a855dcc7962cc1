/**
 * Byte extents: half-open ranges [start, start + length) of a partition or disk.
 * Every function returns extents sorted by start, non-overlapping and non-empty; inputs may be
 * unsorted, overlapping or contain empty extents (they are normalized first).
 */
import { RecoveryError } from '../errors.ts';

export interface Extent {
  readonly start: bigint;
  readonly length: bigint;
}

function endOf(e: Extent): bigint {
  return e.start + e.length;
}

function checkExtent(e: Extent): void {
  if (e.start < 0n || e.length < 0n) {
    throw new RecoveryError('blockmap.extent-invalid', `Extent with negative start or length (${e.start}, ${e.length})`, {
      data: { start: e.start.toString(), length: e.length.toString() },
    });
  }
}

/** Sorts, merges overlapping and adjacent extents, drops empty ones. */
export function normalizeExtents(extents: readonly Extent[]): Extent[] {
  extents.forEach(checkExtent);
  const sorted = extents.filter((e) => e.length > 0n).sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: Extent[] = [];
  let start = -1n;
  let end = -1n;
  for (const e of sorted) {
    if (start >= 0n && e.start <= end) {
      if (endOf(e) > end) end = endOf(e);
      continue;
    }
    if (start >= 0n) out.push({ start, length: end - start });
    start = e.start;
    end = endOf(e);
  }
  if (start >= 0n) out.push({ start, length: end - start });
  return out;
}

/** Bytes covered, each byte counted once. */
export function totalBytes(extents: readonly Extent[]): bigint {
  return normalizeExtents(extents).reduce((sum, e) => sum + e.length, 0n);
}

/** Bytes in `a` that are not in `b`. */
export function subtractExtents(a: readonly Extent[], b: readonly Extent[]): Extent[] {
  const cut = normalizeExtents(b);
  const out: Extent[] = [];
  let j = 0;
  for (const e of normalizeExtents(a)) {
    let cursor = e.start;
    const end = endOf(e);
    while (j < cut.length && endOf(cut[j]!) <= cursor) j++;
    for (let k = j; k < cut.length && cut[k]!.start < end; k++) {
      const c = cut[k]!;
      if (c.start > cursor) out.push({ start: cursor, length: c.start - cursor });
      if (endOf(c) > cursor) cursor = endOf(c);
    }
    if (cursor < end) out.push({ start: cursor, length: end - cursor });
  }
  return out;
}

/** Bytes in both `a` and `b`. */
export function intersectExtents(a: readonly Extent[], b: readonly Extent[]): Extent[] {
  const x = normalizeExtents(a);
  const y = normalizeExtents(b);
  const out: Extent[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    const p = x[i]!;
    const q = y[j]!;
    const start = p.start > q.start ? p.start : q.start;
    const end = endOf(p) < endOf(q) ? endOf(p) : endOf(q);
    if (start < end) out.push({ start, length: end - start });
    if (endOf(p) < endOf(q)) i++;
    else j++;
  }
  return normalizeExtents(out);
}

function checkUnit(unit: bigint, what: string): void {
  if (unit <= 0n) {
    throw new RecoveryError('blockmap.extent-invalid', `${what} must be positive, got ${unit}`, { data: { [what]: unit.toString() } });
  }
}

/**
 * Widens every extent to `unit` boundaries (so reads and writes stay sector or block aligned), then
 * clamps to [0, limit): a partition whose size is not a multiple of `unit` keeps its last bytes.
 */
export function alignExtents(extents: readonly Extent[], unit: bigint, limit: bigint): Extent[] {
  checkUnit(unit, 'unit');
  const out: Extent[] = [];
  for (const e of normalizeExtents(extents)) {
    const start = (e.start / unit) * unit;
    let end = ((endOf(e) + unit - 1n) / unit) * unit;
    if (end > limit) end = limit;
    if (start < end) out.push({ start, length: end - start });
  }
  return normalizeExtents(out);
}

/**
 * Cuts extents into pieces of at most `maxLength` bytes. Cuts fall on multiples of `maxLength`
 * (a fixed grid), not at `maxLength` from each extent's start: why — when a later backup's extents
 * grow or shrink, the untouched parts still cut into the same pieces, so their chunks dedup.
 */
export function splitExtents(extents: readonly Extent[], maxLength: bigint): Extent[] {
  checkUnit(maxLength, 'maxLength');
  const out: Extent[] = [];
  for (const e of normalizeExtents(extents)) {
    const end = endOf(e);
    let cursor = e.start;
    while (cursor < end) {
      const gridEnd = (cursor / maxLength + 1n) * maxLength;
      const pieceEnd = gridEnd < end ? gridEnd : end;
      out.push({ start: cursor, length: pieceEnd - cursor });
      cursor = pieceEnd;
    }
  }
  return out;
}
