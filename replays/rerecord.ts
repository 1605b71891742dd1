// Re-records kept replays after a change that moves trace hashes or the plan format: each
// file's stored plan (migrated to the current format when older) is run again and written
// back with the new trace hash, keeping its recorded expectation. A file whose run no longer
// meets its expectation is left as it was and reported: that is a regression, not a rerecord.
//   npx tsx replays/rerecord.ts [file.msgpack ...]   (default: every replay in replays/)
// `--now-fails <invariant>` accepts one change of expectation: a known-bug replay that a new,
// earlier invariant now catches is kept as failing that invariant (say why in the commit).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import '../scenarios/index.ts';
import {
  meetsExpectation,
  REPLAY_EXTENSION,
  readReplay,
  replayFromRun,
  writeReplay,
} from '../sim/replay-file.ts';
import { runPlan, scenarioNamed } from '../sim/run.ts';

const directory = import.meta.dirname;
const args = process.argv.slice(2);
const nowFailsAt = args.indexOf('--now-fails');
const nowFails = nowFailsAt >= 0 ? args[nowFailsAt + 1] : undefined;
if (nowFailsAt >= 0 && nowFails === undefined) {
  process.stderr.write('--now-fails needs the name of the invariant the replays now fail\n');
  process.exit(2);
}
const given =
  nowFailsAt >= 0 ? args.filter((_, at) => at !== nowFailsAt && at !== nowFailsAt + 1) : args;
const paths =
  given.length > 0
    ? given
    : readdirSync(directory)
        .filter((name) => name.endsWith(REPLAY_EXTENSION))
        .sort()
        .map((name) => join(directory, name));

let kept = 0;
for (const path of paths) {
  const old = readReplay(path);
  const result = runPlan(old.plan);
  const moved =
    nowFails !== undefined &&
    old.expected.outcome === 'fails' &&
    result.violation?.invariant === nowFails;
  if (moved) {
    old.expected = { outcome: 'fails', invariant: nowFails };
  }
  if (!meetsExpectation(old, result)) {
    const got = result.violation ? `fails ${result.violation.invariant}` : 'passes';
    process.stderr.write(`${path}: no longer meets its expectation (${got}); left unchanged\n`);
    kept++;
    continue;
  }
  const file = replayFromRun({
    scenario: scenarioNamed(old.scenario),
    plan: old.plan,
    result,
    finding: old.finding,
    expected: old.expected,
  });
  writeReplay(path, file);
  process.stdout.write(`${path}: ${old.traceHash} → ${file.traceHash}\n`);
}
process.exit(kept > 0 ? 1 : 0);
