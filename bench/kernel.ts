// Kernel throughput: tokens bounce between N nodes as fast as the simulator can deliver them.
// Faults off measures the bare loop (queue, dispatch, hash); faults on adds drops,
// duplicates, tail latency, partitions and crashes.
import { quietKnobs } from '../sim/plan.ts';
import { type Scenario, serverCount } from '../sim/scenario.ts';
import { Simulation } from '../sim/simulation.ts';
import { testPlan } from '../sim/testing.ts';
import type { FaultEvent, Message, NodeContext, NodeId, NodeProgram, Plan } from '../sim/types.ts';

const TOKENS_PER_NODE = 4;
const REFILL_US = 20_000;

interface Token extends Message {
  type: 'token';
  hops: number;
}

class Bouncer implements NodeProgram {
  constructor(private readonly ctx: NodeContext) {}

  onStart(): void {
    for (let index = 0; index < TOKENS_PER_NODE; index++) {
      this.forward(0);
    }
    if (this.ctx.workload['refill'] === true) {
      this.ctx.setTimer(REFILL_US, 'refill');
    }
  }

  onMessage(_from: NodeId, message: Message): void {
    this.forward((message as Token).hops + 1);
  }

  onTimer(): void {
    // Drops and crashes kill tokens; a slow refill keeps the population alive.
    this.forward(0);
    this.ctx.setTimer(REFILL_US, 'refill');
  }

  private forward(hops: number): void {
    const servers = this.ctx.servers;
    const to = servers[this.ctx.random.int(servers.length)] as NodeId;
    this.ctx.send(to, { type: 'token', hops } satisfies Token, 32);
  }
}

function benchScenario(nodes: number, durationUs: number): Scenario {
  return {
    name: 'bench-kernel',
    description: 'tokens bouncing between nodes',
    system: 'bench',
    groups: [
      { name: 'servers', size: nodes, prefix: 'n', program: (context) => new Bouncer(context) },
    ],
    durationUs,
    settleUs: 0,
    faults: { eligible: [], swarm: false },
    workload: {},
    variants: {},
    invariants: () => [],
    budgets: { eventsMax: 100_000_000, wallMsMax: 600_000 },
  };
}

function benchPlan(scenario: Scenario, withFaults: boolean): Plan {
  const knobs = quietKnobs();
  const faults: FaultEvent[] = [];
  const nodes = serverCount(scenario);
  if (withFaults) {
    knobs.faultKinds = ['drop', 'duplicate', 'latency-tail', 'partition', 'crash'];
    knobs.dropProbability = 0.05;
    knobs.duplicateProbability = 0.05;
    knobs.latencyTailProbability = 0.01;
    knobs.latencyTailMultiplier = 10;
    const stepUs = Math.floor(scenario.durationUs / 20);
    for (let index = 0; index < 10; index++) {
      const atUs = 2 * index * stepUs;
      faults.push({
        atUs,
        kind: 'partition',
        shape: 'isolate',
        links: [[index % nodes, (index + 1) % nodes]],
      });
      faults.push({ atUs: atUs + stepUs, kind: 'heal' });
      faults.push({ atUs: atUs + 1, kind: 'crash', node: index % nodes });
      faults.push({ atUs: atUs + stepUs, kind: 'restart', node: index % nodes });
    }
    faults.sort((a, b) => a.atUs - b.atUs);
  }
  return testPlan(scenario, { knobs, faults, workload: { refill: withFaults } });
}

export interface KernelBenchResult {
  nodes: number;
  events: number;
  eventsPerSec: number;
  eventsWithFaults: number;
  eventsPerSecWithFaults: number;
  accelerationFaultsOff: number;
}

function measure(nodes: number, durationUs: number, withFaults: boolean) {
  const scenario = benchScenario(nodes, durationUs);
  const result = new Simulation(scenario, benchPlan(scenario, withFaults)).run();
  return {
    events: result.stats.events,
    eventsPerSec: Math.round(result.stats.events / (result.stats.wallMs / 1000)),
    acceleration: result.stats.virtualTimeUs / (result.stats.wallMs * 1000),
  };
}

/** Runs both measurements after a warm-up, so the JIT has seen the hot path. */
export function benchKernel(nodes = 8, durationUs = 200_000_000): KernelBenchResult {
  measure(nodes, Math.floor(durationUs / 4), false);
  measure(nodes, Math.floor(durationUs / 4), true);
  const off = measure(nodes, durationUs, false);
  const on = measure(nodes, durationUs, true);
  return {
    nodes,
    events: off.events,
    eventsPerSec: off.eventsPerSec,
    eventsWithFaults: on.events,
    eventsPerSecWithFaults: on.eventsPerSec,
    accelerationFaultsOff: Math.round(off.acceleration * 10) / 10,
  };
}
