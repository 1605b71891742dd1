// Seeds and CPU-seconds to first failure for known-bug variants: runs seeds in order from
// each starting point until one fails, and prints one JSON line per (variant, from), then one
// line per variant with the medians. In-process and sequential, so "first" means the lowest
// failing seed, and CPU-seconds are this process's user + system time over those seeds
// (what a user buys; it holds up better than wall time on a shared machine).
//   npx tsx bench/variants.ts <scenario> <variant[,variant...]> [--from 0,1000,...] [--max N]
//                             [--set name=value,...]
import '../scenarios/index.ts';

import { checkPins, runSeed, scenarioNamed } from '../sim/run.ts';
import { parsePins } from '../sim/shape.ts';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index > 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

function median(values: number[]): number | null {
  if (values.length === 0) {
    return null;
  }
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

const [scenario, variantList] = process.argv.slice(2);
if (scenario === undefined || variantList === undefined) {
  process.stderr.write(
    'usage: tsx bench/variants.ts <scenario> <variant,...> [--from 0,1000] [--max N] [--set name=value,...]\n',
  );
  process.exit(2);
}
const starts = option('--from', '0').split(',').map(Number);
const seedsMax = Number(option('--max', '1000'));
const setText = option('--set', '');
const pins = parsePins(setText === '' ? [] : setText.split(','));
if (typeof pins === 'string') {
  process.stderr.write(`${pins}\n`);
  process.exit(2);
}
checkPins(scenarioNamed(scenario), pins);

for (const variant of variantList.split(',')) {
  const seedCounts: number[] = [];
  const cpuSeconds: number[] = [];
  // Events to first failure: deterministic, so comparable across runs on a busy machine,
  // where CPU-seconds are not quite (and the first variant of a run pays the JIT warm-up).
  const eventCounts: number[] = [];
  let missed = 0;
  for (const from of starts) {
    let found: { seed: number; invariant: string; message: string } | null = null;
    let seed = from;
    let events = 0;
    const start = process.cpuUsage();
    for (; seed < from + seedsMax && found === null; seed++) {
      const { result } = runSeed(scenario, seed, variant, {}, pins);
      events += result.stats.events;
      if (result.outcome !== 'pass') {
        found = {
          seed,
          invariant: result.violation?.invariant ?? result.outcome,
          message: result.violation?.message ?? '',
        };
      }
    }
    const used = process.cpuUsage(start);
    const cpuSec = Number(((used.user + used.system) / 1e6).toFixed(2));
    const seedsRun = seed - from;
    if (found === null) {
      missed++;
    } else {
      seedCounts.push(seedsRun);
      cpuSeconds.push(cpuSec);
      eventCounts.push(events);
    }
    process.stdout.write(
      `${JSON.stringify({ scenario, variant, pins, from, seedsToFirstFailure: found ? seedsRun : null, cpuSecToFirstFailure: found ? cpuSec : null, seedsRun, events, ...found })}\n`,
    );
  }
  // A start that found nothing counts as "more than --max": the median says so when it must.
  const allSeeds = [...seedCounts, ...Array.from({ length: missed }, () => Infinity)];
  const allCpu = [...cpuSeconds, ...Array.from({ length: missed }, () => Infinity)];
  const allEvents = [...eventCounts, ...Array.from({ length: missed }, () => Infinity)];
  process.stdout.write(
    `${JSON.stringify({ scenario, variant, pins, summary: true, starts: starts.length, missed, medianSeeds: median(allSeeds), medianEvents: median(allEvents), medianCpuSec: median(allCpu) })}\n`,
  );
}
