// Small shared formatting for CLI output.
import type { RunResult } from '../sim/types.ts';

export function formatUs(timeUs: number): string {
  if (timeUs >= 1_000_000) {
    return `${(timeUs / 1_000_000).toFixed(3)} s`;
  }
  return `${(timeUs / 1000).toFixed(3)} ms`;
}

export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

/**
 * A rate for people: one decimal below 10 (a slow scenario runs 0.4 seeds/s, which rounding
 * printed as "0 seeds/s"), whole numbers with separators from 10 on.
 */
export function formatRate(perSec: number): string {
  return perSec < 10 ? perSec.toFixed(1) : formatCount(Math.round(perSec));
}

/** A drawn shape for people: `durationUs 2.5 s · servers 3 · thinkUs 4.1 ms`. */
export function formatShape(shape: Readonly<Record<string, number>>): string {
  return Object.entries(shape)
    .map(([name, value]) => `${name} ${name.endsWith('Us') ? formatUs(value) : formatCount(value)}`)
    .join(' · ');
}

export function summarizeResult(result: RunResult): string[] {
  const { stats } = result;
  const lines = [
    `outcome     ${result.outcome}`,
    `trace hash  ${result.traceHash}`,
    ...(result.shape === undefined ? [] : [`shape       ${formatShape(result.shape)}`]),
    `events      ${formatCount(stats.events)} in ${formatUs(stats.virtualTimeUs)} virtual, ${stats.wallMs.toFixed(1)} ms wall`,
    `messages    ${formatCount(stats.messagesSent)} sent, ${formatCount(stats.messagesDelivered)} delivered, ${formatCount(stats.messagesDropped)} dropped, ${formatCount(stats.messagesDuplicated)} duplicated, ${formatCount(stats.bytesSent)} bytes`,
    `nodes       ${stats.crashes} crashes, ${stats.restarts} restarts, ${formatCount(stats.timersFired)} timers, ${formatCount(stats.fsyncs)} fsyncs`,
    `history     ${formatCount(stats.operations)} operations, ${formatCount(stats.observations)} observations`,
  ];
  const fired = Object.entries(result.faultsFired)
    .map(([kind, count]) => `${kind}×${count}`)
    .join(' ');
  lines.push(`faults      ${fired || 'none fired'}`);
  if (result.sometimes.length > 0) {
    lines.push(`reached     ${result.sometimes.join('; ')}`);
  }
  for (const { invariant, reason } of result.undecided) {
    lines.push(`undecided   ${invariant}: ${reason}`);
  }
  if (result.violation !== undefined) {
    const { violation } = result;
    lines.push(
      `violation   ${violation.invariant} at ${formatUs(violation.timeUs)} (event ${violation.eventIndex}): ${violation.message}`,
    );
  }
  return lines;
}
