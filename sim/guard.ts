// The determinism guard: while a run is in progress, the ambient sources of nondeterminism
// (real time, real randomness, real timers) throw an error that names what was touched.
// The run is synchronous, so nothing outside it can observe the swapped globals.

export class DeterminismError extends Error {
  override name = 'DeterminismError';
}

/** Captured before any guard is installed: the simulator's own wall-clock budget uses it. */
export const realNow: () => number = performance.now.bind(performance);

function forbidden(what: string, instead: string): () => never {
  return () => {
    throw new DeterminismError(
      `${what} was called inside a simulation; a run must be deterministic: ${instead}`,
    );
  };
}

interface Saved {
  random: typeof Math.random;
  dateNow: typeof Date.now;
  performanceNow: typeof performance.now;
  setTimeout: typeof globalThis.setTimeout;
  setInterval: typeof globalThis.setInterval;
  setImmediate: typeof globalThis.setImmediate;
  hrtime: typeof process.hrtime;
}

let depth = 0;
let saved: Saved | null = null;

export function installGuard(): void {
  depth++;
  if (depth > 1) {
    return;
  }
  saved = {
    random: Math.random,
    dateNow: Date.now,
    performanceNow: performance.now,
    setTimeout: globalThis.setTimeout,
    setInterval: globalThis.setInterval,
    setImmediate: globalThis.setImmediate,
    hrtime: process.hrtime,
  };
  Math.random = forbidden('Math.random', 'use ctx.random');
  Date.now = forbidden('Date.now', 'use ctx.now()');
  performance.now = forbidden('performance.now', 'use ctx.now()');
  const timers = 'use ctx.setTimer()';
  globalThis.setTimeout = forbidden('setTimeout', timers) as unknown as typeof setTimeout;
  globalThis.setInterval = forbidden('setInterval', timers) as unknown as typeof setInterval;
  globalThis.setImmediate = forbidden('setImmediate', timers) as unknown as typeof setImmediate;
  const hrtime = forbidden('process.hrtime', 'use ctx.now()') as unknown as typeof process.hrtime;
  hrtime.bigint = forbidden('process.hrtime.bigint', 'use ctx.now()');
  process.hrtime = hrtime;
}

export function removeGuard(): void {
  depth--;
  if (depth > 0 || saved === null) {
    return;
  }
  Math.random = saved.random;
  Date.now = saved.dateNow;
  performance.now = saved.performanceNow;
  globalThis.setTimeout = saved.setTimeout;
  globalThis.setInterval = saved.setInterval;
  globalThis.setImmediate = saved.setImmediate;
  process.hrtime = saved.hrtime;
  saved = null;
}

/** Runs `body` with the guard installed, and always removes it. */
export function guarded<T>(body: () => T): T {
  installGuard();
  try {
    return body();
  } finally {
    removeGuard();
  }
}
