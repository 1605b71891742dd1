// How a failure reads to a person, wherever it is found (fuzz, fuzzTest).
import type { Violation } from '../types.ts';

export interface FailureText {
  scenario: string;
  variant: string | null;
  seed: number;
  violation: Violation;
  replay: string;
}

export function formatFailure(failure: FailureText): string {
  const { violation } = failure;
  const variant = failure.variant === null ? '' : ` (variant ${failure.variant})`;
  const timeMs = (violation.timeUs / 1000).toFixed(3);
  return [
    `${failure.scenario}${variant} seed ${failure.seed} fails ${violation.invariant} at ${timeMs} ms (event ${violation.eventIndex}): ${violation.message}`,
    `  replay file: ${failure.replay}`,
    `  reproduce:   npx faultline replay ${failure.replay}`,
  ].join('\n');
}
