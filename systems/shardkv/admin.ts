// An administrator of the shard controller: a client node that runs a script of Join, Leave,
// Move and Query steps at virtual times, one at a time through a CtrlerClerk, and records
// each in the history (stream 'ctrl') with what it returned: the new configuration's number
// for a command, the configuration for a Query. A step may carry a label and a check; the
// shardctrler invariant reads them from the history (the MIT tests' check() calls).
import type { NodeContext, NodeId, NodeProgram, Message as SimMessage } from '../../sim/types.ts';
import type { GroupServers } from './config.ts';
import { CtrlerClerk } from './ctrler-clerk.ts';
import type { CtrlerOp } from './ctrler-state-machine.ts';

export type AdminOp =
  | { f: 'join'; gids: number[] }
  | { f: 'leave'; gids: number[] }
  | { f: 'move'; shard: number; gid: number }
  | { f: 'query'; num: number };

/** What a step asserts about the configuration its Query returned (see invariants/shardkv.ts). */
export interface AdminCheck {
  /** MIT's check(): exactly these groups, every shard on one of them, balanced. */
  groups?: number[];
  /** MIT's check_same_config(): identical to what the step labelled so returned. */
  sameAs?: string;
  /** The exact assignment, shard by shard. */
  shards?: number[];
  /** On a join since the step labelled `from`: no shard moved except to a joined group. */
  joinedSince?: { from: string; gids: number[] };
  /** On a leave since the step labelled `from`: no shard moved except off a left group. */
  leftSince?: { from: string; gids: number[] };
  /** At most this many shards differ from the step labelled `from`. */
  movedAtMost?: { from: string; count: number };
  /** The configuration number is greater than the step labelled `than` returned. */
  newerThan?: string;
}

export interface AdminStep {
  /** Not before this virtual time (µs), and after the previous step completed. */
  atUs: number;
  op: AdminOp;
  label?: string;
  check?: AdminCheck;
}

/** The workload key holding administrator `index`'s script (JSON of AdminStep[]). */
export function adminScriptKey(index: number): string {
  return `admin.${index}`;
}

export const CTRL_STREAM = 'ctrl';

export interface AdminOptions {
  /** The controller's group in the topology. */
  ctrlerGroup: string;
  /** The servers a Join names for a gid (MIT's tests join made-up server names). */
  serversOf: (ctx: NodeContext, gid: number) => readonly NodeId[];
}

export class CtrlerAdmin implements NodeProgram {
  private readonly clerk: CtrlerClerk;
  private readonly script: AdminStep[];
  private next = 0;
  private busy = false;

  constructor(
    private readonly ctx: NodeContext,
    private readonly options: AdminOptions,
  ) {
    this.clerk = new CtrlerClerk(ctx, ctx.members(options.ctrlerGroup));
    const index = ctx.members(ctx.group).indexOf(ctx.id);
    const text = ctx.workload[adminScriptKey(index)];
    this.script = typeof text === 'string' ? (JSON.parse(text) as AdminStep[]) : [];
  }

  onStart(): void {
    this.schedule();
  }

  private schedule(): void {
    const step = this.script[this.next];
    if (step !== undefined) {
      this.ctx.setTimer(Math.max(1, step.atUs - this.ctx.now()), 'admin:next');
    }
  }

  private run(step: AdminStep): void {
    this.busy = true;
    const operation = this.ctx.history.invoke(step, { stream: CTRL_STREAM });
    const finish = (output: unknown) => {
      this.ctx.history.complete(operation, 'ok', output);
      this.busy = false;
      this.next++;
      this.schedule();
    };
    const op = step.op;
    if (op.f === 'query') {
      this.clerk.query(op.num, finish);
      return;
    }
    this.clerk.command(this.toCommand(op), (result) => finish({ num: result.num }));
  }

  private toCommand(op: Exclude<AdminOp, { f: 'query' }>): CtrlerOp {
    switch (op.f) {
      case 'join':
        return {
          op: 'join',
          groups: op.gids.map((gid): GroupServers => [gid, this.options.serversOf(this.ctx, gid)]),
        };
      case 'leave':
        return { op: 'leave', gids: op.gids };
      case 'move':
        return { op: 'move', shard: op.shard, gid: op.gid };
    }
  }

  onMessage(from: NodeId, message: SimMessage): void {
    this.clerk.onMessage(from, message);
  }

  onTimer(tag: string, timerId: number): void {
    if (this.clerk.onTimer(tag, timerId)) {
      return;
    }
    const step = this.script[this.next];
    if (tag === 'admin:next' && !this.busy && step !== undefined) {
      this.run(step);
    }
  }

  inspect(): { role: 'client'; step: number; steps: number; nextAtUs: number | null } {
    const next = this.script[this.next];
    return {
      role: 'client',
      step: this.next,
      steps: this.script.length,
      nextAtUs: next === undefined ? null : next.atUs,
    };
  }
}
