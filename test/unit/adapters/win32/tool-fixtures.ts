/** Captured Windows tool output in test/fixtures/tools (sources in test/fixtures/SOURCES.md). */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DIR = fileURLToPath(new URL('../../../fixtures/tools/', import.meta.url));

export const TOOL_FIXTURES = readdirSync(DIR).filter((f) => f.endsWith('.txt')).sort();

export function toolOutput(name: string): string {
  return readFileSync(DIR + name, 'utf8');
}

/** The same text with CRLF line ends, as a Windows console pipe delivers it. */
export const crlf = (text: string) => text.replace(/\r?\n/g, '\r\n');
