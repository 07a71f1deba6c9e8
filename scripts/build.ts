import { build } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run build`: the TypeScript tree transpiled, file for file, into dist/, so the processes
 * the fleet starts (workers, their job processes, crm-sync) run plain JavaScript. Under tsx every
 * job process spent about twice the CPU getting ready, during the calls that made the fleet
 * start it. Type checking stays with `tsc --noEmit` in `npm test`.
 *
 * A rebuild rewrites only files whose output changed, each by rename, so a fleet already running
 * from dist/ never forks a job process from a half-written file.
 */
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const OUT = join(ROOT, 'dist');
const SOURCE_DIRS = ['agents', 'worker', 'scripts', 'test/support'];
/** Bundled for the browser by the console server when it starts; shipped as source. */
const AS_SOURCE = join('worker', 'console', 'web');

function filesUnder(dir: string): string[] {
  if (!existsSync(join(ROOT, dir))) return [];
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

function writeIfChanged(file: string, contents: Uint8Array): boolean {
  if (existsSync(file) && Buffer.compare(readFileSync(file), contents) === 0) return false;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp-${process.pid}`, contents);
  renameSync(`${file}.tmp-${process.pid}`, file);
  return true;
}

export async function buildDist(): Promise<{ files: number; changed: number; ms: number }> {
  const startedAt = performance.now();
  const sources = SOURCE_DIRS.flatMap(filesUnder).filter((file) => !file.includes('.test.'));
  const compiled = sources.filter((file) => file.endsWith('.ts') && !file.startsWith(AS_SOURCE) && !file.endsWith('.d.ts'));
  const copied = sources.filter((file) => !compiled.includes(file));
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: compiled,
    outdir: OUT,
    outbase: '.',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    write: false,
    logLevel: 'warning',
  });
  const wanted = new Set<string>();
  let changed = 0;
  for (const output of result.outputFiles) {
    wanted.add(output.path);
    if (writeIfChanged(output.path, output.contents)) changed += 1;
  }
  for (const file of copied) {
    wanted.add(join(OUT, file));
    if (writeIfChanged(join(OUT, file), readFileSync(join(ROOT, file)))) changed += 1;
  }
  // A module deleted from the tree must not live on in dist/.
  for (const file of filesUnder('dist')) {
    if (!wanted.has(join(ROOT, file))) rmSync(join(ROOT, file));
  }
  return { files: wanted.size, changed, ms: Math.round(performance.now() - startedAt) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { files, changed, ms } = await buildDist();
  console.log(`dist/: ${files} files, ${changed} rewritten, in ${ms} ms`);
}
