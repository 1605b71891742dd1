import { basename, dirname, join } from 'node:path';

import {
  REPLAY_EXTENSION,
  type ReplayFile,
  replayFromRun,
  writeReplay,
} from '../../sim/replay-file.ts';
import { runPlan, scenarioNamed } from '../../sim/run.ts';
import { scenarioShrinkHooks, shrinkPlan, workloadList } from '../../sim/shrink.ts';
import { Topology } from '../../sim/topology.ts';
import type { Plan, RunResult } from '../../sim/types.ts';
import { durationArgument } from '../duration.ts';
import { EXIT_OK, EXIT_VIOLATION, UsageError } from '../errors.ts';
import { formatCount, formatUs } from '../format.ts';
import { replayArgument } from '../replay-input.ts';

import { StatusLine } from '../status-line.ts';
import type { Command } from './index.ts';

const ATTEMPTS_MAX = 100_000;
const PLAIN_PROGRESS_MS = 5000;

export const shrinkCommand: Command = {
  scenarios: true,
  command: 'shrink <file>',
  describe: 'Make a failing replay small: fewer faults, operations, clients, less noise',
  builder: (yargs) =>
    yargs
      .positional('file', { type: 'string', describe: 'a .msgpack replay file that fails' })
      .option('out', { alias: 'o', type: 'string', describe: 'where to write the shrunk replay' })
      .option('time', { type: 'string', default: '60s', describe: 'wall-time budget (90s, 5m)' })
      .example(
        '$0 shrink faultline-out/pingpong-ack-before-fsync-seed0-violation.msgpack',
        'minimise a finding',
      ),
  run: async (args) => {
    const file = replayArgument(args.file);
    const timeMs = durationArgument(args.time, '--time');
    const invariant = file.violation?.invariant;
    if (file.finding === 'hang' || file.finding === 'crash' || file.finding === 'nondeterminism') {
      throw new UsageError(`shrink works on failing runs; ${args.file} records a ${file.finding}`);
    }
    if (invariant === undefined) {
      throw new UsageError(`${args.file} records a passing run: there is nothing to shrink`);
    }
    const before = runPlan(file.plan);
    if (before.violation?.invariant !== invariant) {
      process.stdout.write(
        `${args.file} no longer fails ${invariant} (it ${before.violation ? `fails ${before.violation.invariant}` : 'passes'}): nothing to shrink\n`,
      );
      return before.outcome === 'pass' ? EXIT_OK : EXIT_VIOLATION;
    }
    const out = typeof args.out === 'string' ? args.out : shrunkPath(String(args.file));
    const scenario = scenarioNamed(file.scenario);
    process.stdout.write(
      `shrinking ${args.file}: keeping edits that still fail ${invariant}; each smaller plan is written to ${out} as it is found, so Ctrl-C loses nothing…\n`,
    );
    // The run that showed a candidate still fails is the one its replay file records.
    let lastFailing: { plan: Plan; result: RunResult } | undefined;
    const stillFails = (plan: Plan) => {
      const result = runPlan(plan);
      const fails = result.violation?.invariant === invariant;
      if (fails) {
        lastFailing = { plan, result };
      }
      return fails;
    };
    const write = (plan: Plan, result: RunResult) =>
      writeReplay(out, replayFromRun({ scenario, plan, result, finding: file.finding }));
    const status = new StatusLine(PLAIN_PROGRESS_MS);
    const shrunk = shrinkPlan(
      file.plan,
      stillFails,
      { timeMs, attemptsMax: ATTEMPTS_MAX },
      {
        ...scenarioShrinkHooks(scenario),
        onSmaller: (plan) => {
          if (lastFailing?.plan === plan) {
            write(plan, lastFailing.result);
          }
          status.showIfDue(sizeLine(file.plan, plan));
        },
      },
    );
    status.clear();
    // Every kept edit was written with its run; with none kept, write the plan as it came.
    const kept = lastFailing?.plan === shrunk.plan ? lastFailing : undefined;
    const after = kept?.result ?? before;
    if (kept === undefined) {
      write(shrunk.plan, after);
    }
    process.stdout.write(sizeTable(file, before, shrunk.plan, after).join('\n') + '\n');
    const budget = shrunk.exhausted
      ? ' (budget spent: it may shrink further with more --time)'
      : '';
    process.stdout.write(
      `${shrunk.accepted} edits kept of ${shrunk.attempts} tried in ${shrunk.rounds} rounds${budget}\n`,
    );
    process.stdout.write(`wrote ${out}\n  npx faultline replay ${out}\n`);
    return EXIT_VIOLATION;
  },
};

function clientsOf(plan: Plan): number {
  return Topology.of(plan).clients.length;
}

function sizeLine(original: Plan, plan: Plan): string {
  return `  now ${plan.faults.length}/${original.faults.length} faults, ${plan.script.length}/${original.script.length} script steps, ${clientsOf(plan)}/${clientsOf(original)} clients, ${formatUs(plan.durationUs)} of faults`;
}

function shrunkPath(path: string): string {
  const name = basename(path, REPLAY_EXTENSION).replace(/\.shrunk$/, '');
  return join(dirname(path), `${name}.shrunk${REPLAY_EXTENSION}`);
}

function sizeTable(file: ReplayFile, before: RunResult, plan: Plan, after: RunResult): string[] {
  const rows: [string, string, string][] = [
    ['fault events', String(file.plan.faults.length), String(plan.faults.length)],
    ['script steps', String(file.plan.script.length), String(plan.script.length)],
    ['clients', String(clientsOf(file.plan)), String(clientsOf(plan))],
    ['operations', formatCount(before.stats.operations), formatCount(after.stats.operations)],
    ['events', formatCount(before.stats.events), formatCount(after.stats.events)],
    ['virtual time', formatUs(before.stats.virtualTimeUs), formatUs(after.stats.virtualTimeUs)],
  ];
  const lists = new Set(scenarioNamed(file.scenario).shrinkableWorkloadLists ?? []);
  for (const key of Object.keys(file.plan.workload).sort()) {
    const from = file.plan.workload[key];
    const to = plan.workload[key];
    if (lists.has(key)) {
      const steps = [workloadList(file.plan, key).length, workloadList(plan, key).length];
      if (steps[0] !== steps[1]) {
        rows.push([`${key} steps`, String(steps[0]), String(steps[1])]);
      }
    } else if (from !== to) {
      rows.push([`workload ${key}`, String(from), String(to)]);
    }
  }
  for (const [key, value] of Object.entries(file.plan.knobs)) {
    const to = plan.knobs[key as keyof Plan['knobs']];
    if (typeof value === 'number' && value !== to) {
      rows.push([key, String(value), String(to)]);
    }
  }
  const width = Math.max(...rows.map(([name]) => name.length));
  return [
    `${''.padEnd(width)}  ${'before'.padStart(12)}  ${'after'.padStart(12)}`,
    ...rows.map(
      ([name, from, to]) => `${name.padEnd(width)}  ${from.padStart(12)}  ${to.padStart(12)}`,
    ),
    `violation: ${after.violation?.invariant} at ${formatUs(after.violation?.timeUs ?? 0)}: ${after.violation?.message}`,
  ];
}
