// Assertions are for programmer errors (ours or a system's), never for injected faults.
// A failed assertion inside a run ends the run as a finding.
export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) {
    throw new AssertionError(message);
  }
}

/**
 * A failed check whose message is costly to build: `if (!ok) fail(\`…${detail}\`)` builds it
 * only on failure, where `assert(ok, \`…\`)` would build it on every call of a hot path.
 */
export function fail(message: string): never {
  throw new AssertionError(message);
}

export function assertSafeInteger(value: number, what: string): void {
  if (!Number.isSafeInteger(value)) {
    throw new AssertionError(`${what} must be a safe integer, got ${value}`);
  }
}

export function unreachable(value: never, what: string): never {
  throw new AssertionError(`unreachable: unexpected ${what} ${JSON.stringify(value)}`);
}
