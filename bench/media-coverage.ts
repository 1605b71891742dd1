// How often media faults reach Kafka-lite in a swarm, and how often a check stands down for
// it: over a seed range, the seeds where a broker found a partition damaged (and copied it
// afresh), those where a partition elected an eligible leader replica (KIP-966), and those that
// ended with a partition offline after a media fault (the only seeds where `unseen` and the
// outbox's delivery checks excuse anything). Prints one line per offline seed, then the counts.
//   npx tsx bench/media-coverage.ts [kafka|kafka-group-churn|outbox-cdc|outbox-polling]
//                                   [--from 0] [--seeds 400]
import '../scenarios/index.ts';
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
const SCENARIOS = ['kafka', 'kafka-group-churn', 'outbox-cdc', 'outbox-polling'];
const name = args[0] !== undefined && !args[0].startsWith('--') ? args[0] : 'kafka';
if (!SCENARIOS.includes(name)) {
  process.stderr.write(`the scenario should be one of ${SCENARIOS.join(', ')}, got ${name}\n`);
  process.exit(2);
}
const from = option(args, '--from', 0);
const seeds = option(args, '--seeds', 400);
const base = scenarioNamed(name);
let damaged = 0;
let offline = 0;
let eligible = 0;
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
        if (
          observations.some(
            (r) =>
              r.observation.type === 'kafka-leader-elected' &&
              r.observation['eligibleLeaderReplica'] === true,
          )
        ) {
          eligible++;
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
  `${name} seeds ${from}–${from + seeds - 1}: ${damaged} found a damaged partition, ${eligible} elected an eligible leader replica, ${offline} ended with a partition offline, ${failed} failed\n`,
);
