/** Small text helpers shared by the tool-output parsers (pure: strings in, data out). */

/** Lines of tool output, whatever the line ending (CRLF from a console, LF from a fixture). */
export function outputLines(text: string): string[] {
  return text.split(/\r\n|\n|\r/);
}

export const isBlank = (line: string) => line.trim() === '';

/** Binary size units as Windows tools print them (diskpart "238 GB" means 238 GiB). */
const UNIT: Record<string, bigint> = { B: 1n, KB: 1n << 10n, MB: 1n << 20n, GB: 1n << 30n, TB: 1n << 40n, PB: 1n << 50n };

/** "238 GB" → bytes (the value is already rounded by the tool); undefined when not a size. */
export function parseSize(text: string): bigint | undefined {
  const m = /^(\d{1,12}) ?(B|KB|MB|GB|TB|PB)$/i.exec(text.trim());
  if (m === null) return undefined;
  return BigInt(m[1]!) * UNIT[m[2]!.toUpperCase()]!;
}
