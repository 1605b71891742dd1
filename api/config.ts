// The shape of a project's faultline.config.ts; the CLI reads it (cli/scenario-modules.ts).

/** What `faultline.config.ts` exports by default. */
export interface FaultlineConfig {
  /** Globs of scenario files, relative to the config file (`'faultline/*.scenario.ts'`). */
  scenarios: string | string[];
}

/** Types a config file's default export: `export default defineConfig({ scenarios: [...] })`. */
export function defineConfig(config: FaultlineConfig): FaultlineConfig {
  return config;
}
