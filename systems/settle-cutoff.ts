// A workload driver that keeps going for a while into the settle phase, then stops: what is
// sent just after the faults stop shows the healed system working, and stopping later leaves
// the settle phase time to deliver what was sent. Measured on the node's monotonic clock from
// the first time it is asked during the settle phase (a restarted program starts again).
import type { NodeContext } from '../sim/types.ts';

export class SettleCutoff {
  private settleSinceUs = -1;

  constructor(
    private readonly ctx: Pick<NodeContext, 'phase' | 'monotonic'>,
    private readonly intoSettleUs: number,
  ) {}

  /** Whether the driver should stop: `intoSettleUs` of the settle phase have passed. */
  stopped(): boolean {
    if (this.ctx.phase() !== 'settle') {
      return false;
    }
    const now = this.ctx.monotonic();
    if (this.settleSinceUs < 0) {
      this.settleSinceUs = now;
    }
    return now - this.settleSinceUs >= this.intoSettleUs;
  }
}
