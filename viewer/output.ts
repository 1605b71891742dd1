// The `--html <file>` and `--timeline` options, shared by `run` and `replay`, so each
// command adds the viewer with two lines.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Argv } from 'yargs';
import type { TraceRecorder } from '../sim/trace-log.ts';
import type { Plan, RunResult } from '../sim/types.ts';
import { renderHtml } from './render-html.ts';
import { renderTimeline } from './render-timeline.ts';

export interface ViewerArgs {
  html?: unknown;
  timeline?: unknown;
}

export function viewerOptions<T>(yargs: Argv<T>) {
  return yargs
    .option('html', {
      type: 'string',
      describe: 'write the run as a self-contained space-time diagram (HTML) to this file',
    })
    .option('timeline', {
      type: 'boolean',
      default: false,
      describe: 'print the run as a text timeline, one line per notable event',
    });
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
    write(`${renderTimeline(trace.records, plan, result)}\n`);
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
