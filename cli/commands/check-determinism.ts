import { locateDivergence } from '../../sim/replay-file.ts';
import { runSeed } from '../../sim/run.ts';
import { countArgument, scenarioArgument, seedArgument } from '../args.ts';
import { EXIT_OK, EXIT_VIOLATION, UsageError } from '../errors.ts';
import { formatCount } from '../format.ts';
import { loadScenarioModules } from '../scenario-modules.ts';
import type { Command } from './index.ts';

const SEEDS_MAX = 10_000_000;

export const checkDeterminismCommand: Command = {
  command: 'check-determinism <scenario>',
  describe: 'Run each seed twice in one process and compare trace hashes',
  builder: (yargs) =>
    yargs
      .positional('scenario', { type: 'string', describe: 'scenario name (see `faultline list`)' })
      .option('seeds', { type: 'string', default: '100', describe: 'how many seeds' })
      .option('from', { type: 'string', default: '0', describe: 'the first seed' })
      .option('variant', { type: 'string', describe: 'a known-bug variant of the system' })
      .example('$0 check-determinism pingpong --seeds 200', 'the same seed must give the same run'),
  run: async (args) => {
    await loadScenarioModules();
    const variant = typeof args.variant === 'string' ? args.variant : null;
    const scenario = scenarioArgument(args.scenario, variant);
    const seeds = countArgument(args.seeds, '--seeds');
    const from = seedArgument(args.from, '--from');
    if (seeds > SEEDS_MAX) {
      throw new UsageError(`--seeds should be at most ${SEEDS_MAX} here; use fuzz for more`);
    }
    let mismatches = 0;
    for (let seed = from; seed < from + seeds; seed++) {
      // Each seed runs twice, with other seeds in between for the first one: state leaking
      // between runs (a module-level cache, say) shows up as a different hash.
      const first = runSeed(scenario.name, seed, variant).result;
      const second = runSeed(scenario.name, seed, variant).result;
      if (first.traceHash !== second.traceHash) {
        mismatches++;
        const where = locateDivergence(
          {
            checkpoints: first.checkpoints,
            traceHash: first.traceHash,
            events: first.stats.events,
          },
          second,
        );
        process.stdout.write(
          `✗ seed ${seed}: trace hash ${first.traceHash} then ${second.traceHash}; ${where?.message ?? 'the hashes differ'}\n`,
        );
      }
    }
    process.stdout.write(
      `${scenario.name}${variant ? ` (variant ${variant})` : ''}: ${formatCount(seeds)} seeds run twice, ${mismatches === 0 ? 'all trace hashes equal' : `${mismatches} nondeterministic`}\n`,
    );
    return mismatches === 0 ? EXIT_OK : EXIT_VIOLATION;
  },
};
