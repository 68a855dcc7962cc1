/**
 * Did a diskpart script work? diskpart stops at the first failing command and exits non-zero
 * (codes below, TechNet bb490893) — but a command with `noerr` fails and lets the script go on
 * to exit 0, and a VDS failure reported as text is easy to miss. So both count: the exit code and
 * the en-US failure banners "DiskPart has encountered an error: …" / "Virtual Disk Service error:"
 * (whose message is on the next line) and the focus/argument refusals below.
 */
import { isBlank, outputLines } from './text.ts';

export const DISKPART_EXIT_MEANINGS: Readonly<Record<number, string>> = {
  0: 'no error',
  1: 'a fatal exception occurred',
  2: 'the parameters on the command line were incorrect',
  3: 'DiskPart could not open the script or output file',
  4: 'a service DiskPart uses (VDS) returned a failure',
  5: 'a command syntax error, or an object was not selected or not usable',
};

/** Banners whose message follows on the next non-blank line. */
const BANNERS_WITH_NEXT_LINE = [/^Virtual Disk Service error:?\s*$/i];
/** One-line failure messages. */
const FAILURE_LINES = [
  /^DiskPart has encountered an error\b/i,
  /^Virtual Disk Service error:\s*\S/i,
  /^DiskPart failed to\b/i,
  /^There is no (disk|partition|volume) selected\b/i,
  /^The arguments specified for this command are not valid\b/i,
  /^The specified command or parameters are not supported\b/i,
  /^No usable free extent could be found\b/i,
  /^The disk you specified is not valid\b/i,
  /^The volume you specified is not valid\b/i,
  /^The partition you specified is not valid\b/i,
];

export interface DiskpartOutcome {
  readonly ok: boolean;
  readonly exitCode: number;
  /** What the exit code means (DiskPart's documented codes), or undefined for an unknown code. */
  readonly exitMeaning: string | undefined;
  /** The failure lines found in the output, each with its follow-up message where there is one. */
  readonly errors: readonly string[];
}

export function diskpartErrors(stdout: string): string[] {
  const lines = outputLines(stdout).map((l) => l.trim());
  const errors: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (BANNERS_WITH_NEXT_LINE.some((re) => re.test(line))) {
      let j = i + 1;
      while (j < lines.length && isBlank(lines[j]!)) j++;
      errors.push(j < lines.length ? `${line} ${lines[j]}` : line);
      i = j;
    } else if (FAILURE_LINES.some((re) => re.test(line))) {
      errors.push(line);
    }
  }
  return errors;
}

export function diskpartOutcome(result: { exitCode: number; stdout: string }): DiskpartOutcome {
  const errors = diskpartErrors(result.stdout);
  return {
    ok: result.exitCode === 0 && errors.length === 0,
    exitCode: result.exitCode,
    exitMeaning: DISKPART_EXIT_MEANINGS[result.exitCode],
    errors,
  };
}
