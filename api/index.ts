// `import … from 'faultline'`: what a project needs to write nodes, scenarios and invariants
// of its own, and to run them. Everything here is the same module the CLI and the fuzz
// workers use, so a scenario registered through it shows up in `faultline list`.

export { Disk, DiskReadError } from '../sim/disk.ts';
export type { Random } from '../sim/random.ts';
export {
  type ReplayFile,
  readReplay,
  replayLoaded,
  writeReplay,
} from '../sim/replay-file.ts';
export { checkVariant, runPlan, runSeed, scenarioNamed } from '../sim/run.ts';
export {
  allScenarios,
  type Budgets,
  type FaultProfile,
  findScenario,
  type GroupSpec,
  registerScenario,
  type Scenario,
  ScenarioError,
  serversAndClients,
  variantFor,
} from '../sim/scenario.ts';
export type { LogRange, ShapeSpec } from '../sim/shape.ts';
export {
  type ClusterView,
  FAULT_KINDS,
  type FaultEvent,
  type FaultKind,
  type GroupView,
  HARNESS,
  type HistoryOperation,
  type HistoryRecorder,
  type Invariant,
  type Message,
  type NodeContext,
  type NodeId,
  type NodeProgram,
  type Observation,
  type ObservationRecord,
  type Outcome,
  type PartitionShape,
  type Plan,
  type ProgramFactory,
  type RunResult,
  type ScriptStep,
  type Undecided,
  type Verdict,
  type Violation,
  type WorkloadValue,
} from '../sim/types.ts';
export { defineConfig, type FaultlineConfig } from './config.ts';
