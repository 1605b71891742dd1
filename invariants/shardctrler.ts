// The shard controller's invariants (issue 14; MIT 6.5840 shardctrler's checks, peer-suites
// §1.4), besides Raft's own for its group:
//   1. every Join and Leave gives a balanced assignment (counts at most one apart, every
//      shard on a group of the configuration) that moves the fewest shards possible;
//   2. every replica makes the same configuration under each number (deterministic);
//   3. a Query for the newest configuration returns one at least as new as every command
//      acknowledged before the Query was sent;
//   4. the checks the administrators' scripts attach to their Queries (MIT's check(),
//      check_same_config() and the minimal-transfer loops) hold;
//   5. liveness: every step of every script completes by the end of the run.
import type {
  ClusterView,
  HistoryOperation,
  Invariant,
  ObservationRecord,
  Verdict,
} from '../sim/types.ts';
import type { AdminCheck, AdminStep } from '../systems/shardkv/admin.ts';
import { CTRL_STREAM } from '../systems/shardkv/admin.ts';
import {
  minimalMoves,
  movedShards,
  type ShardConfig,
  sameConfig,
  unbalanced,
} from '../systems/shardkv/config.ts';
import type { CtrlConfigMade } from '../systems/shardkv/contract.ts';

function configMade(record: ObservationRecord): CtrlConfigMade | undefined {
  return record.observation.type === 'ctrl-config-made'
    ? (record.observation as unknown as CtrlConfigMade)
    : undefined;
}

/** 1: balance and minimal moves after every Join and Leave, on every replica as it applies. */
export function ctrlerBalancedMinimal(): Invariant {
  return {
    name: 'shardctrler-balanced-minimal',
    onObservation(record, view) {
      const made = configMade(record);
      if (made === undefined || made.op === 'move') {
        return undefined;
      }
      const who = `${view.name(record.node)} made configuration ${made.num} by a ${made.op}`;
      const why = unbalanced(made.after, made.gids);
      if (why !== undefined) {
        return `${who} that is not balanced: ${why} (shards [${made.after.join(',')}])`;
      }
      const moved = movedShards(made.before, made.after);
      const least = minimalMoves(made.before, made.gids);
      return moved > least
        ? `${who} that moved ${moved} shards ([${made.before.join(',')}] → [${made.after.join(',')}]) where ${least} would do: rebalancing must move the fewest shards`
        : undefined;
    },
  };
}

/** 2: the same configuration under each number on every replica. */
export function ctrlerReplicasAgree(): Invariant {
  const made = new Map<number, { text: string; node: number }>();
  return {
    name: 'shardctrler-replicas-agree',
    onObservation(record, view) {
      const config = configMade(record);
      if (config === undefined) {
        return undefined;
      }
      const text = JSON.stringify([config.after, config.gids]);
      const first = made.get(config.num);
      if (first === undefined) {
        made.set(config.num, { text, node: record.node });
        return undefined;
      }
      return first.text === text
        ? undefined
        : `${view.name(first.node)} and ${view.name(record.node)} made different configurations numbered ${config.num} (${first.text} vs ${text}): rebalancing must be deterministic`;
    },
  };
}

interface AdminOperation {
  step: AdminStep;
  op: HistoryOperation;
}

function adminOperations(history: readonly HistoryOperation[]): AdminOperation[] {
  return history
    .filter((op) => op.stream === CTRL_STREAM)
    .map((op) => ({ step: op.input as AdminStep, op }));
}

function ms(us: number): string {
  return `${(us / 1000).toFixed(3)} ms`;
}

/** 3: a Query(-1) is never older than a command acknowledged before it was sent. */
export function ctrlerFreshQueries(): Invariant {
  return {
    name: 'shardctrler-fresh-queries',
    atEnd(view) {
      const operations = adminOperations(view.history);
      const acked = operations
        .filter(({ step, op }) => step.op.f !== 'query' && op.returnUs !== undefined)
        .map(({ op }) => ({ num: (op.output as { num: number }).num, at: op.returnUs as number }));
      for (const { step, op } of operations) {
        if (step.op.f !== 'query' || step.op.num >= 0 || op.returnUs === undefined) {
          continue;
        }
        const config = op.output as ShardConfig;
        const newer = acked.find((ack) => ack.at < op.callUs && ack.num > config.num);
        if (newer !== undefined) {
          return `${view.name(op.client)}'s Query(-1) at ${ms(op.callUs)} returned configuration ${config.num}, but configuration ${newer.num} had been acknowledged at ${ms(newer.at)}: a stale Query`;
        }
      }
      return undefined;
    },
  };
}

function checkStep(
  check: AdminCheck,
  config: ShardConfig,
  labelled: ReadonlyMap<string, ShardConfig>,
): string | undefined {
  const from = (label: string) => labelled.get(label);
  if (check.groups !== undefined) {
    const gids = config.groups.map(([gid]) => gid);
    const want = [...check.groups].sort((a, b) => a - b);
    if (JSON.stringify(gids) !== JSON.stringify(want)) {
      return `it has groups [${gids.join(',')}], expected [${want.join(',')}]`;
    }
    const why = unbalanced(config.shards, gids);
    if (why !== undefined) {
      return `its assignment [${config.shards.join(',')}] is not valid: ${why}`;
    }
  }
  if (check.shards !== undefined && config.shards.join(',') !== check.shards.join(',')) {
    return `its assignment is [${config.shards.join(',')}], expected [${check.shards.join(',')}]`;
  }
  if (check.sameAs !== undefined) {
    const earlier = from(check.sameAs);
    if (earlier !== undefined && !sameConfig(earlier, config)) {
      return `it differs from what the Query labelled ${check.sameAs} returned (${JSON.stringify(earlier)}): configurations must be immutable`;
    }
  }
  if (check.newerThan !== undefined) {
    const earlier = from(check.newerThan);
    if (earlier !== undefined && config.num <= earlier.num) {
      return `its number ${config.num} is not above ${earlier.num} of ${check.newerThan}: a Move must make a new configuration`;
    }
  }
  const since = check.joinedSince ?? check.leftSince;
  if (since !== undefined) {
    const before = from(since.from);
    for (let shard = 0; before !== undefined && shard < config.shards.length; shard++) {
      const was = before.shards[shard] as number;
      const now = config.shards[shard] as number;
      const allowed =
        check.joinedSince !== undefined ? since.gids.includes(now) : since.gids.includes(was);
      if (was !== now && !allowed) {
        return `shard ${shard} moved from group ${was} to ${now} since ${since.from}: a non-minimal transfer after a ${check.joinedSince !== undefined ? 'join' : 'leave'}`;
      }
    }
  }
  if (check.movedAtMost !== undefined) {
    const before = from(check.movedAtMost.from);
    const moved = before === undefined ? 0 : movedShards(before.shards, config.shards);
    if (moved > check.movedAtMost.count) {
      return `${moved} shards moved since ${check.movedAtMost.from}, more than ${check.movedAtMost.count}`;
    }
  }
  return undefined;
}

/** 4: the administrators' checks, over what their Queries returned. */
export function ctrlerScriptChecks(): Invariant {
  return {
    name: 'shardctrler-checks',
    atEnd(view): Verdict {
      const labelled = new Map<string, ShardConfig>();
      for (const { step, op } of adminOperations(view.history)) {
        if (step.op.f !== 'query' || op.returnUs === undefined) {
          continue;
        }
        const config = op.output as ShardConfig;
        if (step.check !== undefined) {
          const why = checkStep(step.check, config, labelled);
          if (why !== undefined) {
            return `${view.name(op.client)}'s Query(${step.op.num})${step.label === undefined ? '' : ` (${step.label})`} at ${ms(op.callUs)} returned configuration ${config.num}, but ${why}`;
          }
        }
        if (step.label !== undefined) {
          labelled.set(step.label, config);
        }
      }
      return undefined;
    },
  };
}

/**
 * 5: every administrator finished the steps of its script due by `byUs` (the faults had
 * stopped and clerks retry for ever). Later steps are not judged: a shrunk plan may end
 * before its script does.
 */
export function ctrlerStepsComplete(byUs: number): Invariant {
  return {
    name: 'shardctrler-steps-complete',
    atEnd(view: ClusterView): Verdict {
      for (const client of view.clients) {
        const state = view.inspect(client) as
          | { step?: number; steps?: number; nextAtUs?: number | null }
          | undefined;
        const due = state?.nextAtUs;
        if (typeof due === 'number' && due <= byUs) {
          return `${view.name(client)} finished ${state?.step} of its ${state?.steps} controller steps by the end of the run, the next due at ${ms(due)}: the controller stopped making progress`;
        }
      }
      return undefined;
    },
  };
}

/** The controller's invariants; script steps due by `stepsDueByUs` must complete. */
export function ctrlerInvariants(stepsDueByUs: number): Invariant[] {
  return [
    ctrlerBalancedMinimal(),
    ctrlerReplicasAgree(),
    ctrlerFreshQueries(),
    ctrlerScriptChecks(),
    ctrlerStepsComplete(stepsDueByUs),
  ];
}
