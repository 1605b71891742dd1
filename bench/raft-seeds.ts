// Seeds in one process: events per CPU-second (user+system time of this process, which holds
// up better than wall time when the machine is shared).
//   npx tsx bench/raft-seeds.ts [scenario] [from] [count] [name=value ...]
// The name=value pairs pin the seed's shape as `--set` does. Prints one JSON line.
import '../scenarios/index.ts';
import { runSeed } from '../sim/run.ts';
import { parsePins } from '../sim/shape.ts';

const [scenario = 'raft', fromText = '0', countText = '10', ...pinItems] = process.argv.slice(2);
const from = Number(fromText);
const count = Number(countText);
const pins = parsePins(pinItems);
if (typeof pins === 'string') {
  process.stderr.write(`${pins}\n`);
  process.exit(2);
}
let events = 0;
let failed = 0;
const hashes: string[] = [];
const start = process.cpuUsage();
for (let seed = from; seed < from + count; seed++) {
  const { result } = runSeed(scenario, seed, null, {}, pins);
  events += result.stats.events;
  failed += result.outcome === 'pass' ? 0 : 1;
  hashes.push(result.traceHash.slice(0, 8));
}
const used = process.cpuUsage(start);
const cpuSec = (used.user + used.system) / 1e6;
process.stdout.write(
  `${JSON.stringify({
    scenario,
    from,
    count,
    pins,
    failed,
    events,
    eventsPerSeed: Math.round(events / count),
    cpuSec: Number(cpuSec.toFixed(2)),
    seedsPerCpuSec: Number((count / cpuSec).toFixed(2)),
    eventsPerCpuSec: Math.round(events / cpuSec),
    hashes: hashes.join(','),
  })}\n`,
);
