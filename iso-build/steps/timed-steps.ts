/**
 * The build tools' named steps: each one's duration is logged as it ends and kept (in ms) for the
 * tool's result.
 */
export interface TimedSteps {
  readonly timings: Readonly<Record<string, number>>;
  step<T>(name: string, run: () => Promise<T>): Promise<T>;
}

export function timedSteps(log: (line: string) => void): TimedSteps {
  const timings: Record<string, number> = {};
  return {
    timings,
    async step<T>(name: string, run: () => Promise<T>): Promise<T> {
      const started = performance.now();
      const value = await run();
      timings[name] = Math.round(performance.now() - started);
      log(`${name}: ${(timings[name] / 1000).toFixed(1)} s`);
      return value;
    },
  };
}
