// The `--html <file>` and `--timeline` options, shared by `run` and `replay`, so each
// command adds the viewer with two lines.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { UsageError } from '../cli/errors.ts';
import { Topology } from '../sim/topology.ts';
import type { TraceRecorder } from '../sim/trace-log.ts';
import type { Plan, RunResult } from '../sim/types.ts';
import { renderHtml } from './render-html.ts';
import { renderTimeline, type TimelineOptions } from './render-timeline.ts';

export interface ViewerArgs {
  html?: unknown;
  timeline?: unknown;
  around?: unknown;
  all?: unknown;
  node?: unknown;
  group?: unknown;
  type?: unknown;
}

/** Lines either side of the violation that `--timeline` prints unless told otherwise. */
export const TIMELINE_AROUND_DEFAULT = 200;
const TIMELINE_ONLY = ['around', 'all', 'node', 'group', 'type'] as const;

export function viewerOptions<T>(yargs: Argv<T>) {
  return yargs
    .option('html', {
      type: 'string',
      describe: 'write the run as a self-contained space-time diagram (HTML) to this file',
    })
    .option('timeline', {
      type: 'boolean',
      default: false,
      describe: `print the run as a text timeline, one line per notable event: the ${TIMELINE_AROUND_DEFAULT} lines either side of the violation (the last ${2 * TIMELINE_AROUND_DEFAULT} of a passing run)`,
    })
    .option('around', {
      type: 'string',
      describe: `with --timeline: lines kept either side of the violation (default ${TIMELINE_AROUND_DEFAULT})`,
    })
    .option('all', {
      type: 'boolean',
      describe: 'with --timeline: every line of the run, not a window',
    })
    .option('node', {
      type: 'string',
      array: true,
      describe: 'with --timeline: only these nodes (sent, received or on them), e.g. --node n1,n3',
    })
    .option('group', {
      type: 'string',
      array: true,
      describe: "with --timeline: only these groups' nodes, e.g. --group brokers",
    })
    .option('type', {
      type: 'string',
      array: true,
      describe:
        'with --timeline: only these message types or record kinds, e.g. --type RequestVote,crash',
    });
}

/** Comma- or space-separated values of an array option, without empties. */
function listOf(value: unknown): string[] {
  const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return items.flatMap((item) => String(item).split(',')).filter((item) => item.length > 0);
}

/**
 * What `--timeline` keeps, checked against the plan's nodes and groups, so a misspelt name
 * is one sentence before the run rather than an empty timeline after it.
 */
export function timelineOptions(args: ViewerArgs, plan: Plan): TimelineOptions {
  if (args.timeline !== true) {
    const given = TIMELINE_ONLY.find((name) => args[name] !== undefined && args[name] !== false);
    if (given !== undefined) {
      throw new UsageError(`--${given} shapes the text timeline: add --timeline`);
    }
    return {};
  }
  if (args.all === true && args.around !== undefined) {
    throw new UsageError('--all prints every line and --around a window: give one of them');
  }
  const options: TimelineOptions = {};
  if (args.all !== true) {
    const text = args.around === undefined ? String(TIMELINE_AROUND_DEFAULT) : String(args.around);
    const around = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(around) || around < 1) {
      throw new UsageError(`--around takes a positive whole number of lines, not "${text}"`);
    }
    options.around = around;
  }
  const topology = Topology.of(plan);
  const nodes = new Set<number>();
  for (const name of listOf(args.node)) {
    const id = topology.names.indexOf(name);
    if (id < 0) {
      throw new UsageError(
        `--node ${name}: this run has no such node (its nodes: ${topology.names.join(', ')})`,
      );
    }
    nodes.add(id);
  }
  for (const name of listOf(args.group)) {
    const group = topology.groups.find((candidate) => candidate.name === name);
    if (group === undefined) {
      const names = topology.groups.map((candidate) => candidate.name).join(', ');
      throw new UsageError(`--group ${name}: this run has no such group (its groups: ${names})`);
    }
    for (const id of group.members) {
      nodes.add(id);
    }
  }
  if (nodes.size > 0) {
    options.nodes = nodes;
  }
  const types = listOf(args.type);
  if (types.length > 0) {
    options.types = new Set(types);
  }
  return options;
}

/** True when the run must record its full trace for the viewer. */
export function wantsTrace(args: ViewerArgs): boolean {
  return (typeof args.html === 'string' && args.html.length > 0) || args.timeline === true;
}

/** Prints the timeline and/or writes the HTML file; returns the lines to tell the user. */
export function writeViews(
  args: ViewerArgs,
  trace: Pick<TraceRecorder, 'records'> & { truncated?: boolean },
  plan: Plan,
  result: RunResult,
  write: (text: string) => void = (text) => process.stdout.write(text),
): void {
  if (args.timeline === true) {
    write(`${renderTimeline(trace.records, plan, result, timelineOptions(args, plan))}\n`);
  }
  if (typeof args.html === 'string' && args.html.length > 0) {
    const path = resolve(args.html);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(
      path,
      renderHtml({ records: trace.records, plan, result, truncated: trace.truncated }),
    );
    write(`space-time diagram: ${path} (open it in a browser)\n`);
  }
}
