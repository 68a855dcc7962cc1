/**
 * DISM output, run with /English (keys are localized otherwise; dates still follow the system's
 * short-date pattern, so `date` is kept as text).
 *  - /Get-Drivers, list form: blocks of `Key : value`, one per package, each starting at
 *    `Published Name`; table form (/Format:Table): `|`-separated columns under a dashed rule.
 *  - /Add-Driver: `Found N driver package(s) to install.` and `Installing i of n - <path>: <message>`.
 *  - failures: `Error: <n>` (a Win32 code such as 87, or an HRESULT such as 0x800f081f), the message
 *    on the following lines; the exit code is that number. 3010 means success, restart required.
 */
import { isBlank, outputLines } from './text.ts';

export interface DismDriver {
  readonly publishedName: string;
  readonly originalFileName: string | undefined;
  /** `Inbox : Yes|No`; undefined when absent or not Yes/No. */
  readonly inbox: boolean | undefined;
  readonly className: string | undefined;
  readonly providerName: string | undefined;
  /** As printed (system short-date pattern). */
  readonly date: string | undefined;
  readonly version: string | undefined;
  /** Every key of the package as printed, including ones newer DISM builds add. */
  readonly fields: Readonly<Record<string, string>>;
}

export interface DismDriverList {
  readonly dismVersion: string | undefined;
  readonly imageVersion: string | undefined;
  readonly drivers: readonly DismDriver[];
}

function toDriver(fields: Record<string, string>): DismDriver {
  const inbox = fields['Inbox'];
  return {
    publishedName: fields['Published Name'] ?? '',
    originalFileName: fields['Original File Name'],
    inbox: inbox === 'Yes' ? true : inbox === 'No' ? false : undefined,
    className: fields['Class Name'],
    providerName: fields['Provider Name'],
    date: fields['Date'],
    version: fields['Version'],
    fields,
  };
}

const emptyRecord = () => Object.create(null) as Record<string, string>;

/** `Key : value` (DISM pads the key with one space before the colon). */
function keyValue(line: string): [string, string] | undefined {
  const at = line.indexOf(' : ');
  if (at <= 0) return undefined;
  return [line.slice(0, at).trim(), line.slice(at + 3).trim()];
}

function parseListForm(lines: readonly string[]): DismDriver[] {
  const drivers: DismDriver[] = [];
  let current: Record<string, string> | undefined;
  for (const line of lines) {
    const kv = keyValue(line);
    if (kv === undefined) {
      if (isBlank(line) && current !== undefined) {
        drivers.push(toDriver(current));
        current = undefined;
      }
      continue;
    }
    const [key, value] = kv;
    if (key === 'Published Name') {
      if (current !== undefined) drivers.push(toDriver(current));
      current = emptyRecord();
    }
    if (current !== undefined && !(key in current)) current[key] = value;
  }
  if (current !== undefined) drivers.push(toDriver(current));
  return drivers;
}

const splitRow = (line: string) => line.split('|').map((c) => c.trim());

function parseTableForm(lines: readonly string[]): DismDriver[] | undefined {
  const headerAt = lines.findIndex((l) => l.includes('|') && splitRow(l).includes('Published Name'));
  if (headerAt < 0) return undefined;
  const header = splitRow(lines[headerAt]!);
  const drivers: DismDriver[] = [];
  for (const line of lines.slice(headerAt + 1)) {
    if (!line.includes('|')) continue;
    const cells = splitRow(line);
    if (cells.every((c) => /^-*$/.test(c))) continue;
    const fields = emptyRecord();
    header.forEach((h, i) => {
      if (h !== '' && !(h in fields)) fields[h] = cells[i] ?? '';
    });
    drivers.push(toDriver(fields));
  }
  return drivers;
}

export function parseDismDrivers(stdout: string): DismDriverList {
  const lines = outputLines(stdout);
  const header = (prefix: string) => lines.find((l) => l.startsWith(prefix))?.slice(prefix.length).trim();
  return {
    dismVersion: header('Version: '),
    imageVersion: header('Image Version: '),
    drivers: parseTableForm(lines) ?? parseListForm(lines),
  };
}

export interface DismInstalledPackage {
  readonly index: number;
  readonly total: number;
  readonly path: string;
  readonly message: string;
  readonly installed: boolean;
}

export interface DismAddDriverReport {
  /** From `Found N driver package(s) to install.`; undefined when DISM did not say. */
  readonly found: number | undefined;
  readonly packages: readonly DismInstalledPackage[];
}

export function parseDismAddDriver(stdout: string): DismAddDriverReport {
  let found: number | undefined;
  const packages: DismInstalledPackage[] = [];
  for (const line of outputLines(stdout)) {
    const f = /^Found (\d{1,6}) driver package\(s\) to install\./.exec(line.trim());
    if (f !== null) found = Number(f[1]);
    const m = /^Installing (\d{1,6}) of (\d{1,6}) - (.+)$/.exec(line.trim());
    if (m === null) continue;
    // The path itself contains ':' (X:\…); the message follows the last ': '.
    const rest = m[3]!;
    const sep = rest.lastIndexOf(': ');
    const path = sep < 0 ? rest : rest.slice(0, sep);
    const message = sep < 0 ? '' : rest.slice(sep + 2).trim();
    packages.push({
      index: Number(m[1]), total: Number(m[2]), path, message,
      installed: /successfully installed/i.test(message),
    });
  }
  return { found, packages };
}

export interface DismError {
  /** As printed: decimal ("87") or hexadecimal ("0x800f081f"). */
  readonly code: string;
  /** The message lines after `Error:`, joined; '' when there are none. */
  readonly message: string;
}

export function parseDismError(stdout: string): DismError | undefined {
  const lines = outputLines(stdout);
  const at = lines.findIndex((l) => /^Error: ?(0x[0-9a-fA-F]{1,8}|\d{1,10})\s*$/.test(l.trim()));
  if (at < 0) return undefined;
  const code = lines[at]!.trim().replace(/^Error: ?/, '');
  const message: string[] = [];
  for (const line of lines.slice(at + 1)) {
    if (isBlank(line)) {
      if (message.length > 0) break;
      continue;
    }
    if (/^The DISM log file can be found at/i.test(line.trim())) break;
    message.push(line.trim());
  }
  return { code, message: message.join(' ') };
}

/** DISM's exit code as DISM prints it: decimal for Win32 codes, 0x… for HRESULTs. */
export function dismExitCodeText(exitCode: number): string {
  const u = exitCode >>> 0;
  return u >= 0x80000000 ? `0x${u.toString(16).padStart(8, '0')}` : String(u);
}

/** 3010 (ERROR_SUCCESS_REBOOT_REQUIRED): the change is made, a restart finishes it. */
export const DISM_RESTART_REQUIRED = 3010;
