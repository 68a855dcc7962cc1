/**
 * The part of vitest's API the shared contract suites use (describe/it/hooks/expect), for bundles
 * that run outside vitest — under wine with a Windows node.exe, where vitest itself cannot run.
 * Tests run one after another in declaration order; `runCollected` returns one result per test.
 */
import { isDeepStrictEqual, inspect } from 'node:util';

type Hook = () => unknown;
type TestFn = (context: { skip: (note?: string) => never }) => unknown;

interface Suite {
  readonly title: string;
  readonly skip: boolean;
  readonly tests: { readonly name: string; readonly fn: TestFn }[];
  readonly beforeEach: Hook[];
  readonly afterEach: Hook[];
}

export interface TestResult {
  readonly suite: string;
  readonly name: string;
  readonly status: 'passed' | 'failed' | 'skipped';
  readonly ms: number;
  readonly error?: string;
}

const suites: Suite[] = [];
let current: Suite | undefined;

class SkipSignal extends Error {}

function define(title: string, body: () => void, skip: boolean): void {
  const suite: Suite = { title, skip, tests: [], beforeEach: [], afterEach: [] };
  const outer = current;
  current = suite;
  try {
    body();
  } finally {
    current = outer;
  }
  suites.push(suite);
}

function inSuite(): Suite {
  if (current === undefined) throw new Error('it/beforeEach/afterEach outside describe');
  return current;
}

export const describe = Object.assign((title: string, body: () => void) => define(title, body, false), {
  skipIf: (condition: boolean) => (title: string, body: () => void) => define(title, body, condition),
});

export function it(name: string, fn: TestFn): void {
  inSuite().tests.push({ name, fn });
}

export function beforeEach(hook: Hook): void {
  inSuite().beforeEach.push(hook);
}

export function afterEach(hook: Hook): void {
  inSuite().afterEach.push(hook);
}

function show(value: unknown): string {
  return inspect(value, { depth: 4, breakLength: Infinity });
}

function matchers(actual: unknown, message: string | undefined, negate: boolean) {
  const check = (pass: boolean, text: string) => {
    if (pass === negate) throw new Error(`${message === undefined ? '' : `${message}: `}expected ${show(actual)} ${negate ? 'not ' : ''}${text}`);
  };
  return {
    toBe: (expected: unknown) => check(Object.is(actual, expected), `to be ${show(expected)}`),
    toEqual: (expected: unknown) => check(isDeepStrictEqual(actual, expected), `to equal ${show(expected)}`),
    toBeInstanceOf: (type: abstract new (...args: never[]) => unknown) => check(actual instanceof type, `to be an instance of ${type.name}`),
    toBeGreaterThan: (n: number | bigint) => check((actual as number) > n, `to be greater than ${show(n)}`),
    toBeLessThan: (n: number | bigint) => check((actual as number) < n, `to be less than ${show(n)}`),
    toMatch: (pattern: RegExp) => check(typeof actual === 'string' && pattern.test(actual), `to match ${pattern}`),
    toContain: (item: unknown) => check(Array.isArray(actual) ? actual.includes(item) : String(actual).includes(String(item)), `to contain ${show(item)}`),
  };
}

export function expect(actual: unknown, message?: string) {
  return { ...matchers(actual, message, false), not: matchers(actual, message, true) };
}

/** Runs every collected test (hooks around each), in order. */
export async function runCollected(): Promise<TestResult[]> {
  const results: TestResult[] = [];
  for (const suite of suites) {
    for (const test of suite.tests) {
      if (suite.skip) {
        results.push({ suite: suite.title, name: test.name, status: 'skipped', ms: 0 });
        continue;
      }
      const started = performance.now();
      let error: unknown;
      let skipped = false;
      try {
        for (const hook of suite.beforeEach) await hook();
        await test.fn({ skip: (note) => { throw new SkipSignal(note); } });
      } catch (e) {
        if (e instanceof SkipSignal) skipped = true;
        else error = e;
      }
      for (const hook of suite.afterEach) {
        try {
          await hook();
        } catch (e) {
          error ??= e;
        }
      }
      const ms = Math.round(performance.now() - started);
      const status = error !== undefined ? 'failed' : skipped ? 'skipped' : 'passed';
      results.push({ suite: suite.title, name: test.name, status, ms, ...(error === undefined ? {} : { error: error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error) }) });
    }
  }
  return results;
}
