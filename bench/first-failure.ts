// Seeds to first failure for a list of (scenario, variant) targets, from a few starting seeds:
// an in-process loop over runSeed (firstFailingSeed), as `faultline fuzz <scenario>
// [--variant V] --from F --stop-on-first` would find them. Prints a markdown table. The bench
// scripts for each system (kafka-first-failure.ts, outbox-first-failure.ts) name their targets
// and hand over their command line:
//   [--starts 0,1000] [--limit 200] [--only SUBSTRING]
import '../scenarios/index.ts';
import { firstFailingSeed } from '../sim/run.ts';

export type FirstFailureTarget = readonly [scenario: string, variant: string | null];

export function printFirstFailures(
  targets: readonly FirstFailureTarget[],
  args: readonly string[],
): void {
  const option = (name: string, fallback: string) => {
    const at = args.indexOf(name);
    return at >= 0 && args[at + 1] !== undefined ? (args[at + 1] as string) : fallback;
  };
  const starts = option('--starts', '0,1000').split(',').map(Number);
  const limit = Number(option('--limit', '200'));
  if (starts.some((start) => !Number.isSafeInteger(start) || start < 0) || !(limit >= 1)) {
    console.error(
      '--starts takes non-negative integers separated by commas, --limit a positive count.',
    );
    process.exit(2);
  }
  // --only SUBSTRING: just the targets whose name contains it.
  const only = option('--only', '');

  console.log(`| target | ${starts.map((start) => `from ${start}`).join(' | ')} | caught by |`);
  console.log(`| --- | ${starts.map(() => '---').join(' | ')} | --- |`);
  for (const [scenario, variant] of targets) {
    if (!`${scenario} ${variant ?? ''}`.includes(only)) {
      continue;
    }
    const cells: string[] = [];
    const caughtBy = new Set<string>();
    for (const start of starts) {
      const found = firstFailingSeed(scenario, variant, limit, start);
      if (found === undefined) {
        cells.push(`none in ${limit}`);
      } else {
        cells.push(`${found.seed - start + 1} (seed ${found.seed})`);
        caughtBy.add(found.violation.invariant);
      }
    }
    const name = variant === null ? scenario : `${scenario} --variant ${variant}`;
    console.log(`| ${name} | ${cells.join(' | ')} | ${[...caughtBy].join(', ')} |`);
  }
}
