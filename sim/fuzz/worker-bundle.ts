// Fuzz workers run one prebuilt JavaScript bundle (the worker, the scenarios and any extra
// scenario modules) instead of loading TypeScript through tsx. tsx compiles to CommonJS
// where every imported binding is read through a getter and every function is wrapped to
// keep its name; on raft seeds the bundle ran ~20 % more seeds per second. esbuild is the
// compiler tsx itself uses, so the code that runs is the same code, and trace hashes agree.
//
// A user's scenario file imports `faultline` (or `faultline/raft`, …): those specifiers are
// resolved to this package's own entry files, so esbuild bundles them once, deduplicated by
// path with the worker's imports. Left external they would load a second copy of the sources
// at run time, with a second, empty scenario registry.
//
// The bundle is written under node_modules/.cache (so the packages it leaves external still
// resolve from the project) and named by the hash of its contents. When it cannot be built,
// the workers fall back to the tsx entry: slower, never wrong.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT_DIR = fileURLToPath(new URL('../../', import.meta.url));
const CACHE_DIR = join(ROOT_DIR, 'node_modules', '.cache', 'faultline');

export interface WorkerEntry {
  url: URL;
  /** Whether the extra scenario modules are inside the bundle (workers must not import them). */
  modulesBundled: boolean;
  /** Why the tsx entry is used, when it is. */
  fallbackReason?: string;
}

/** The tsx entry: always works, used when no bundle can be built. */
export const TSX_WORKER_ENTRY: WorkerEntry = {
  url: new URL('./worker-entry.mjs', import.meta.url),
  modulesBundled: false,
};

/** Builds (or finds cached) the worker bundle for these extra scenario modules. */
export async function workerEntry(modules: readonly string[]): Promise<WorkerEntry> {
  try {
    const esbuild = await import('esbuild');
    const imports = [
      join(ROOT_DIR, 'scenarios', 'index.ts'),
      ...modules.map((url) => fileURLToPath(url)),
      join(ROOT_DIR, 'sim', 'fuzz', 'worker.ts'),
    ];
    const built = await esbuild.build({
      stdin: {
        contents: imports.map((path) => `import ${JSON.stringify(path)};`).join('\n'),
        resolveDir: ROOT_DIR,
        sourcefile: 'faultline-worker-entry.js',
        loader: 'js',
      },
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      plugins: [ownPackage()],
      write: false,
      logLevel: 'silent',
    });
    const code = built.outputFiles[0]?.text;
    if (code === undefined) {
      return fallback('esbuild produced no output');
    }
    const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
    const path = join(CACHE_DIR, `worker-${hash}.mjs`);
    if (!existsSync(path)) {
      mkdirSync(CACHE_DIR, { recursive: true });
      const temporary = `${path}.${process.pid}.tmp`;
      writeFileSync(temporary, code);
      renameSync(temporary, path); // atomic: a concurrent campaign never sees half a file
    }
    return { url: pathToFileURL(path), modulesBundled: true };
  } catch (error) {
    return fallback(failureReason(error));
  }
}

/** `faultline` and `faultline/<entry>` resolve to the files this package's exports name. */
function ownPackage(): import('esbuild').Plugin {
  const manifest = JSON.parse(readFileSync(join(ROOT_DIR, 'package.json'), 'utf8')) as {
    name: string;
    exports: Record<string, string | { import?: string }>;
  };
  const targets = new Map<string, string>();
  for (const [subpath, target] of Object.entries(manifest.exports)) {
    const file = typeof target === 'string' ? target : target.import;
    if (file !== undefined) {
      targets.set(`${manifest.name}${subpath.slice(1)}`, join(ROOT_DIR, file));
    }
  }
  return {
    name: 'faultline-own-package',
    setup(build) {
      build.onResolve({ filter: new RegExp(`^${manifest.name}(/|$)`) }, (args) => {
        const path = targets.get(args.path);
        return path === undefined
          ? { errors: [{ text: `${args.path} is not an entry point of ${manifest.name}` }] }
          : { path };
      });
    },
  };
}

/** esbuild's first error ("Could not resolve …"), else the error's first line. */
function failureReason(error: unknown): string {
  const errors = (error as { errors?: { text?: unknown }[] }).errors;
  const text = errors?.[0]?.text;
  if (typeof text === 'string') {
    return text;
  }
  return error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
}

function fallback(reason: string): WorkerEntry {
  return { ...TSX_WORKER_ENTRY, fallbackReason: reason };
}
