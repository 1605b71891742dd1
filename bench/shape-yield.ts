// Which seed shapes find a bug: runs seeds of a variant and prints, per seed, its drawn shape,
// whether it failed and its CPU time, as JSON lines, for choosing a scenario's shape ranges.
//   npx tsx bench/shape-yield.ts <scenario> <variant> [from] [count]
import '../scenarios/index.ts';

import { runSeed } from '../sim/run.ts';

const [scenario, variant, fromText = '0', countText = '200'] = process.argv.slice(2);
if (scenario === undefined || variant === undefined) {
  process.stderr.write('usage: tsx bench/shape-yield.ts <scenario> <variant> [from] [count]\n');
  process.exit(2);
}
for (let seed = Number(fromText); seed < Number(fromText) + Number(countText); seed++) {
  const start = process.cpuUsage();
  const { result } = runSeed(scenario, seed, variant);
  const used = process.cpuUsage(start);
  process.stdout.write(
    `${JSON.stringify({ seed, failed: result.outcome !== 'pass', cpuSec: (used.user + used.system) / 1e6, events: result.stats.events, ...result.shape })}\n`,
  );
}
