// Crash points: the lines of the outbox's programs where a crash matters most (after the
// relay read, after it published, after it saved; after the service committed, before it
// published; after a consumer's effect committed, before its position was saved). At each,
// the process may die on the spot — on seeds with buggify on, now and then (FoundationDB's
// fault points), and in the `outbox-crash-points` scenarios deterministically: the workload
// names one point and which hit of it kills the process (`crashPoint`, `crashPointHit`), in
// every incarnation, until the settle phase. Before dying the node observes which point it
// was, so a violation can name the crash that caused it.
import { ProcessExit } from '../../sim/disk.ts';
import type { NodeContext } from '../../sim/types.ts';
import { observe } from './outbox-contract.ts';

export const CRASH_POINTS = [
  'relay-after-read',
  'relay-after-publish',
  'relay-after-save',
  'poller-after-scan',
  'poller-after-publish',
  'poller-after-delete',
  'service-before-commit',
  'service-after-commit',
  'service-after-publish',
  'consumer-after-fetch',
  'consumer-after-effect',
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export class CrashPoints {
  private readonly scripted: CrashPoint | null;
  private readonly hit: number;
  private hits = 0;

  constructor(private readonly ctx: NodeContext) {
    const named = ctx.workload['crashPoint'];
    this.scripted = CRASH_POINTS.includes(named as CrashPoint) ? (named as CrashPoint) : null;
    const hit = ctx.workload['crashPointHit'];
    this.hit = typeof hit === 'number' && hit >= 1 ? hit : 1;
  }

  /** Dies here when this point is due (never in the settle phase). */
  at(point: CrashPoint): void {
    if (this.ctx.phase() === 'settle') {
      return;
    }
    let due = false;
    if (point === this.scripted) {
      this.hits++;
      due = this.hits === this.hit;
    }
    if (!due && !this.ctx.buggify(`outbox:${point}`)) {
      return;
    }
    observe(this.ctx, { type: 'outbox-crash-point', node: this.ctx.name, point });
    throw new ProcessExit(`crash point ${point}`);
  }
}
