// `import { fuzzTest } from 'faultline/vitest'`: fuzz a scenario from a vitest file.
export {
  type FuzzSeedsReport,
  type FuzzTestOptions,
  fuzzSeeds,
  fuzzTest,
} from '../sim/vitest.ts';
