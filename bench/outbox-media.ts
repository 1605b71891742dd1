// How often media faults reach the outbox swarms' Kafka-lite, and how often the delivery checks
// stand down for it: over a seed range, the seeds where a broker found a partition damaged (and
// copied it afresh) and those that ended with a partition offline after a media fault (the
// only seeds where invariants/outbox.ts excuses anything). Prints one line per offline seed,
// then the counts.
//   npx tsx bench/outbox-media.ts [outbox-cdc|outbox-polling] [--from 0] [--seeds 400]
import '../scenarios/outbox.ts';
import { offlineAfterMediaFaults } from '../invariants/kafka-brokers.ts';
import { planFor } from '../sim/plan.ts';
import { scenarioNamed } from '../sim/run.ts';
import type { Scenario } from '../sim/scenario.ts';
import { Simulation } from '../sim/simulation.ts';

function option(args: readonly string[], name: string, fallback: number): number {
  const index = args.indexOf(name);
  const value = index < 0 ? fallback : Number(args[index + 1]);
  if (!Number.isSafeInteger(value) || value < 0) {
    process.stderr.write(`${name} should be a whole number, got ${args[index + 1]}\n`);
    process.exit(2);
  }
  return value;
}

const args = process.argv.slice(2);
const name = args[0] !== undefined && !args[0].startsWith('--') ? args[0] : 'outbox-cdc';
if (name !== 'outbox-cdc' && name !== 'outbox-polling') {
  process.stderr.write(`the scenario should be outbox-cdc or outbox-polling, got ${name}\n`);
  process.exit(2);
}
const from = option(args, '--from', 0);
const seeds = option(args, '--seeds', 400);
const base = scenarioNamed(name);
let damaged = 0;
let offline = 0;
let failed = 0;
let seed = from;
const counting: Scenario = {
  ...base,
  invariants: (plan) => [
    {
      name: 'count-media',
      atEnd(view, observations) {
        const keys = offlineAfterMediaFaults(view, observations);
        if (keys.size > 0) {
          offline++;
          process.stdout.write(`seed ${seed}: offline at the end: ${[...keys].join(', ')}\n`);
        }
        if (observations.some((r) => r.observation.type === 'kafka-corruption-detected')) {
          damaged++;
        }
        return undefined;
      },
    },
    ...base.invariants(plan),
  ],
};
for (; seed < from + seeds; seed++) {
  if (new Simulation(counting, planFor(counting, seed)).run().outcome !== 'pass') {
    failed++;
  }
}
process.stdout.write(
  `${name} seeds ${from}–${from + seeds - 1}: ${damaged} found a damaged partition, ${offline} ended with one offline, ${failed} failed\n`,
);
