// Throughput on identical runs across code versions: `write` stores the plans of some seeds,
// `run` runs stored plans and prints events per CPU-second (user + system time of this
// process). Plans of an older format are migrated, so an older commit's plans run here too,
// and both versions run the very same events.
//   npx tsx bench/plans-run.ts write <dir> [scenario] [from] [count]
//   npx tsx bench/plans-run.ts run <dir>
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import '../scenarios/index.ts';
import { decodePlan, encodePlan, planFor } from '../sim/plan.ts';
import { runPlan, scenarioNamed } from '../sim/run.ts';

const [mode, dir, scenario = 'raft', fromText = '0', countText = '10'] = process.argv.slice(2);
if ((mode !== 'write' && mode !== 'run') || dir === undefined) {
  process.stderr.write('usage: tsx bench/plans-run.ts write|run <dir> [scenario] [from] [count]\n');
  process.exit(2);
}
if (mode === 'write') {
  mkdirSync(dir, { recursive: true });
  for (let seed = Number(fromText); seed < Number(fromText) + Number(countText); seed++) {
    const plan = planFor(scenarioNamed(scenario), seed);
    writeFileSync(
      join(dir, `${scenario}-${String(seed).padStart(8, '0')}.msgpack`),
      encodePlan(plan),
    );
  }
  process.exit(0);
}
const files = readdirSync(dir)
  .filter((file) => file.endsWith('.msgpack'))
  .sort();
const plans = files.map((file) => decodePlan(readFileSync(join(dir, file))));
let events = 0;
const hashes: string[] = [];
const start = process.cpuUsage();
for (const plan of plans) {
  const result = runPlan(plan);
  events += result.stats.events;
  hashes.push(result.traceHash.slice(0, 8));
}
const used = process.cpuUsage(start);
const cpuSec = (used.user + used.system) / 1e6;
process.stdout.write(
  `${JSON.stringify({ plans: plans.length, events, cpuSec: Number(cpuSec.toFixed(2)), eventsPerCpuSec: Math.round(events / cpuSec), hashes: hashes.join(',') })}\n`,
);
