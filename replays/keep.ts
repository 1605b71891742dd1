// Records one seed as a regression replay in replays/: `npx tsx replays/keep.ts pingpong 1`
// keeps a passing seed (expected: passes); a failing seed is kept as "fails <invariant>".
// To keep a fuzz finding, shrink it instead: `faultline shrink <file> -o replays/<name>.msgpack`.
import { join } from 'node:path';

import '../scenarios/index.ts';
import { replayFileName, replayFromRun, writeReplay } from '../sim/replay-file.ts';
import { runSeed, scenarioNamed } from '../sim/run.ts';

const [scenarioName, seedText, variant] = process.argv.slice(2);
if (scenarioName === undefined || seedText === undefined) {
  process.stderr.write('usage: npx tsx replays/keep.ts <scenario> <seed> [variant]\n');
  process.exit(2);
}
const { plan, result } = runSeed(scenarioName, Number(seedText), variant ?? null);
const finding = result.outcome === 'pass' ? 'pass' : result.outcome;
const file = replayFromRun({ scenario: scenarioNamed(scenarioName), plan, result, finding });
const path = join(import.meta.dirname, replayFileName(file));
writeReplay(path, file);
process.stdout.write(`wrote ${path} (expected: ${JSON.stringify(file.expected)})\n`);
