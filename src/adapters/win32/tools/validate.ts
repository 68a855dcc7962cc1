/**
 * Checks shared by the tool builders. A value that reaches a Windows tool must be exactly what we
 * mean: no newline that would end a diskpart script line, no quote that would end a quoted
 * argument, no relative path that would resolve against WinPE's X:\ RAM disk.
 */
import { invalidArgument } from './tool-error.ts';

/** `K`, `k`, `K:` → `K:`. */
export function driveLetter(tool: string, argument: string, value: string): string {
  const m = /^([A-Za-z]):?$/.exec(value.trim());
  if (m === null) throw invalidArgument(tool, argument, value, 'expected a drive letter such as K or K:');
  return `${m[1]!.toUpperCase()}:`;
}

/** No control characters (newlines would split a script line) and no double quote. */
export function plainText(tool: string, argument: string, value: string, maxLength = 260): string {
  if (/[\u0000-\u001f\u007f"]/.test(value)) throw invalidArgument(tool, argument, value, 'contains a control character or a double quote');
  if (value.length > maxLength) throw invalidArgument(tool, argument, value, `longer than ${maxLength} characters`);
  return value;
}

/**
 * An absolute Windows path on a drive (`E:\Windows`) or a device path (`\\?\…`, `\Device\…`);
 * characters Windows forbids in names are refused.
 */
export function windowsPath(tool: string, argument: string, value: string): string {
  plainText(tool, argument, value, 32_767);
  const absolute = /^[A-Za-z]:\\/.test(value) || value.startsWith('\\\\?\\') || value.startsWith('\\Device\\');
  if (!absolute) throw invalidArgument(tool, argument, value, 'expected an absolute path such as E:\\Windows');
  const rest = value.startsWith('\\\\?\\') ? value.slice(4) : value.slice(2);
  if (/[<>|*]/.test(rest) || /[?]/.test(rest)) throw invalidArgument(tool, argument, value, 'contains a character Windows forbids in paths');
  return value;
}

const GUID = /^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$/;

/** A GUID with or without braces → lower case, no braces. */
export function guid(tool: string, argument: string, value: string): string {
  const m = GUID.exec(value.trim());
  const braces = value.trim().startsWith('{') === value.trim().endsWith('}');
  if (m === null || !braces) throw invalidArgument(tool, argument, value, 'expected a GUID such as de94bba4-06d1-4d40-a16a-bfd50179d6ac');
  return m[1]!.toLowerCase();
}

export function integerIn(tool: string, argument: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw invalidArgument(tool, argument, value, `expected a whole number from ${min} to ${max}`);
  }
  return value;
}
