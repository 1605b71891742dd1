// Messages between the fuzz pool and its workers. Workers send only counts and findings:
// never per-seed results, which would make dispatch cost more than the seeds.
import type { FindingKind } from '../replay-file.ts';
import type { ShapePins } from '../shape.ts';
import type { FiredKind, Plan, RunResult, Violation } from '../types.ts';

/** Layout of each worker's shared control words (Int32Array over a SharedArrayBuffer). */
export const CONTROL_TASK = 0; // serial of the task being run
export const CONTROL_OFFSET = 1; // offset (within the task) of the seed being run
export const CONTROL_COMPLETED = 2; // seeds of the task finished
export const CONTROL_STOP = 3; // set by the pool: finish the current seed and return
export const CONTROL_WORDS = 4;

export interface WorkerData {
  /** Extra modules that register scenarios (test fixtures), as file URLs. */
  modules: string[];
  /** The worker runs a bundle that already holds `modules`: importing them again would
   *  register their scenarios in a second registry. */
  modulesBundled: boolean;
  control: SharedArrayBuffer;
}

export interface RangeTask {
  type: 'range';
  serial: number;
  scenario: string;
  variant: string | null;
  /** Shape parameters pinned with `--set` (empty: every seed draws its whole shape). */
  pins: ShapePins;
  /** Seed of offset 0; offset k runs seed firstSeed + k·stride. */
  firstSeed: number;
  stride: number;
  count: number;
  determinismRate: number;
}

export interface RangeTotals {
  completed: number;
  events: number;
  virtualTimeUs: number;
  /** Time spent inside runs, summed over seeds. */
  runWallMs: number;
  faultsFired: Partial<Record<FiredKind, number>>;
  /** Sometimes assertion → seeds that reached it. */
  sometimes: Record<string, number>;
  /** Invariant → seeds where its end-of-run check could not decide. */
  undecided: Record<string, number>;
  /** Partition shape → partitions of that shape applied. */
  partitionShapes: Record<string, number>;
  /** Partition shape → seeds that applied at least one. */
  partitionShapeSeeds: Record<string, number>;
  /** Fault kind → seeds where it fired at least once. */
  faultSeeds: Record<string, number>;
  /** Drawn shape parameter → seeds per bin (bins of histogram.ts's shapeBins). */
  shapeSeeds: Record<string, number[]>;
  determinismSampled: number;
}

export type FindingResult = Pick<
  RunResult,
  'outcome' | 'traceHash' | 'checkpoints' | 'stats' | 'violation'
>;

export interface FindingMessage {
  type: 'finding';
  serial: number;
  offset: number;
  seed: number;
  kind: FindingKind;
  /** Undefined when the plan could not even be built. */
  plan?: Plan;
  result?: FindingResult;
  violation: Violation;
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'done'; serial: number; totals: RangeTotals }
  | FindingMessage;
