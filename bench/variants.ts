// Seeds to first failure for known-bug variants: runs seeds in order from each starting
// point until one fails, and prints one JSON line per (variant, from). In-process and
// sequential, so "first" means the lowest failing seed.
//   npx tsx bench/variants.ts <scenario> <variant[,variant...]> [--from 0,1000,...] [--max N]
import '../scenarios/index.ts';

import { runSeed } from '../sim/run.ts';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index > 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

const [scenario, variantList] = process.argv.slice(2);
if (scenario === undefined || variantList === undefined) {
  process.stderr.write(
    'usage: tsx bench/variants.ts <scenario> <variant,...> [--from 0,1000] [--max N]\n',
  );
  process.exit(2);
}
const starts = option('--from', '0').split(',').map(Number);
const seedsMax = Number(option('--max', '1000'));

for (const variant of variantList.split(',')) {
  for (const from of starts) {
    let found: { seed: number; invariant: string; message: string } | null = null;
    let seed = from;
    for (; seed < from + seedsMax && found === null; seed++) {
      const { result } = runSeed(scenario, seed, variant);
      if (result.outcome !== 'pass') {
        found = {
          seed,
          invariant: result.violation?.invariant ?? result.outcome,
          message: result.violation?.message ?? '',
        };
      }
    }
    const seedsRun = seed - from;
    process.stdout.write(
      `${JSON.stringify({ scenario, variant, from, seedsToFirstFailure: found ? seedsRun : null, seedsRun, ...found })}\n`,
    );
  }
}
