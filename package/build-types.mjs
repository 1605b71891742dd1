// `prepack`: writes the declarations of the package's entry points (api/) to dist/types, for
// the `types` conditions in package.json's exports.
//
// The sources import each other with `.ts` extensions (run through tsx, bundled by esbuild).
// TypeScript 5.9's rewriteRelativeImportExtensions rewrites those in emitted JavaScript but
// not in declarations, and a user's tsc that meets `./run.ts` in a .d.ts either resolves it to
// our shipped source, checking our files under the user's options, or refuses it (TS5097
// without allowImportingTsExtensions). So the relative specifiers are rewritten here to
// `.js`, which NodeNext and Bundler resolution both map to the .d.ts beside it.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'dist', 'types');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

rmSync(out, { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', join(root, 'package', 'tsconfig.types.json')], {
  stdio: 'inherit',
});

// `from './x.ts'`, `import './x.ts'`, `import('./x.ts')` with a relative specifier.
const SPECIFIER = /((?:from|import)\s*\(?\s*)(['"])(\.{1,2}\/[^'"]*?)\.ts\2/g;
let files = 0;
let rewritten = 0;
for (const entry of readdirSync(out, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.d.ts')) {
    continue;
  }
  const path = join(entry.parentPath, entry.name);
  const text = readFileSync(path, 'utf8');
  const fixed = text.replace(SPECIFIER, (_match, head, quote, stem) => {
    rewritten++;
    return `${head}${quote}${stem}.js${quote}`;
  });
  files++;
  if (fixed !== text) {
    writeFileSync(path, fixed);
  }
}
if (files === 0) {
  throw new Error('tsc wrote no declarations');
}
process.stdout.write(
  `dist/types: ${files} declaration files, ${rewritten} import specifiers → .js\n`,
);
