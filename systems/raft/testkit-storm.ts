// Seeded storms for the core's property tests and bug hunts, on the kernel's faults: message
// loss, duplicates and latency tails, partitions in the kernel's shapes, crashes that tear
// unsynced writes (fsyncs are slow on some seeds, so crashes find them), failed fsyncs,
// pauses and proposals; then a settle phase (heal, calm, restart all) that must commit a
// final command. Afterwards, committed prefixes are compared across nodes (Log Matching on
// committed entries).
import { Random } from '../../sim/random.ts';
import type { PartitionShape } from '../../sim/types.ts';
import { bytes, Cluster, type FaultStats, TICK_US, text } from './testkit.ts';
import type { RaftBug } from './types.ts';

export interface RandomRunResult {
  readonly violations: readonly string[];
  readonly error: string | null;
  readonly leaders: number;
  readonly commits: number;
  /** The faults that reached the cores on this seed. */
  readonly stats: FaultStats;
}

const STORM_SHAPES: readonly PartitionShape[] = [
  'isolate',
  'majority-minority',
  'one-way',
  'bridge',
  'ring',
];
const PAUSE_TICKS_MAX = 30;

export function randomRun(
  seed: number,
  bugs: readonly RaftBug[] = [],
  steps = 300,
): RandomRunResult {
  const plan = Random.fromSeed(`plan/${seed}`);
  const c = new Cluster({
    size: plan.pick([3, 5]),
    seed,
    bugs,
    knobs: {
      dropProbability: plan.pick([0, 0.05, 0.2]),
      duplicateProbability: plan.pick([0, 0.05, 0.2]),
      latencyTailProbability: plan.pick([0, 0.1, 0.3]),
      latencyTailMultiplier: plan.pick([3, 10]),
      fsyncLatencyMaxUs: plan.pick([2_000, 25_000, 25_000]),
      tornWriteProbability: plan.pick([0, 1, 1]),
    },
    snapshotEvery: plan.pick([0, 5, 12]),
    config: {
      preVote: plan.chance(0.7),
      checkQuorum: plan.chance(0.7),
      maxEntriesPerAppend: plan.pick([1, 3, 16]),
      maxInflightAppends: plan.pick([1, 4]),
      maxSnapshotChunkBytes: plan.pick([8, 64, 4096]),
    },
  });
  let error: string | null = null;
  try {
    for (let step = 0; step < steps; step++) {
      randomStep(c, plan, step);
    }
    settle(c);
    checkCommittedPrefixes(c);
  } catch (caught) {
    error = caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught);
  }
  const result = { violations: c.violations, error, leaders: c.leaders.size };
  return { ...result, commits: c.appliedAt.size, stats: c.stats };
}

function randomStep(c: Cluster, plan: Random, step: number): void {
  const roll = plan.next();
  if (roll < 0.04) {
    c.partitionShape(plan.pick(STORM_SHAPES), plan);
  } else if (roll < 0.08) {
    c.heal();
  } else if (roll < 0.11) {
    const victim = plan.pick(c.ids);
    if (c.node(victim).up) {
      c.crash(victim);
    } else {
      c.restart(victim);
    }
  } else if (roll < 0.12) {
    c.pause(plan.pick(c.ids), plan.between(1, PAUSE_TICKS_MAX) * TICK_US);
  } else if (roll < 0.13) {
    c.failNextFsync(plan.pick(c.ids));
  } else if (roll < 0.47) {
    for (const id of c.ids) {
      const node = c.node(id);
      if (node.up && node.core.role === 'leader') {
        node.core.propose(bytes(`s${step}-n${id}`));
      }
    }
    c.flush();
  }
  c.round(1);
}

function settle(c: Cluster): void {
  c.network.calm();
  for (const id of c.ids) {
    c.restart(id);
  }
  c.commitCommand('settle', c.ids.length, 2000);
}

function checkCommittedPrefixes(c: Cluster): void {
  const cores = c.ids.map((id) => c.core(id));
  for (const a of cores) {
    for (const b of cores) {
      const lo = Math.max(a.firstIndex, b.firstIndex);
      const hi = Math.min(a.commitIndex, b.commitIndex);
      for (let index = lo; index <= hi; index++) {
        const x = a.entryAt(index);
        const y = b.entryAt(index);
        if (
          x?.term !== y?.term ||
          text(x?.data ?? new Uint8Array()) !== text(y?.data ?? new Uint8Array())
        ) {
          c.violations.push(`committed entry ${index} differs between ${a.id} and ${b.id}`);
          return;
        }
      }
    }
  }
}
