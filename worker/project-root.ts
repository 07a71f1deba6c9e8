import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function rootAbove(dir: string): string {
  for (let at = dir; ; at = dirname(at)) {
    if (existsSync(join(at, 'package.json'))) return at;
    if (dirname(at) === at) throw new Error(`no package.json above ${dir}: voicefleet must run from its project folder`);
  }
}

/**
 * The project folder (the one with package.json, `.local/` and `config/`), found by walking up,
 * so a module means the same folder whether it runs from the source tree or from dist/.
 */
export const PROJECT_ROOT = rootAbove(dirname(fileURLToPath(import.meta.url)));

/**
 * The compiled copy in dist/ of one of the project's entry points (`worker/main.ts`), for `node`
 * to run (scripts/build.ts makes it; `npm start` and `npm test` run the build first).
 */
export function compiledEntry(source: string): string {
  const file = join(PROJECT_ROOT, 'dist', source.replace(/\.ts$/, '.js'));
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` (npm start and npm test run it)`);
  return file;
}
