// Wall-clock durations on the command line: "90s", "10m", "1h", "500ms", or bare seconds.
import { UsageError } from './errors.ts';

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function durationArgument(value: unknown, what: string): number {
  const text = String(value).trim();
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text);
  if (match === null) {
    throw new UsageError(
      `${what} should be a duration like 90s, 10m or 1h, got ${JSON.stringify(value)}`,
    );
  }
  const durationMs = Number(match[1]) * (UNITS_MS[match[2] ?? 's'] as number);
  if (!(durationMs > 0) || !Number.isFinite(durationMs)) {
    throw new UsageError(`${what} should be positive, got ${JSON.stringify(value)}`);
  }
  return durationMs;
}

export function formatDurationMs(durationMs: number): string {
  if (!Number.isFinite(durationMs)) {
    return '?';
  }
  const seconds = Math.round(durationMs / 1000);
  if (seconds < 60) {
    return durationMs < 10_000 ? `${(durationMs / 1000).toFixed(1)}s` : `${seconds}s`;
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  }
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}
