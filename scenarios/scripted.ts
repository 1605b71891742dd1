// Helpers for scripted scenarios (raft-figure8, raft-lease-restart): plans whose story only
// holds when every message and fsync takes exactly as long as the script assumes.
import type { FaultEvent, Plan, ScriptStep } from '../sim/types.ts';

const MS = 1000;

/** The base plan with these faults and script steps, 1 ms latencies and 1 ms fsyncs. */
export function exactlyTimedPlan(
  base: Plan,
  faults: readonly FaultEvent[],
  script: readonly ScriptStep[],
): Plan {
  return {
    ...base,
    knobs: {
      ...base.knobs,
      latencyMinUs: MS,
      latencyJitterMeanUs: 0,
      fsyncLatencyMinUs: MS,
      fsyncLatencyMaxUs: MS,
    },
    faults: faults.map((fault) => ({ ...fault })),
    script: script.map((step) => ({ ...step })),
  };
}
