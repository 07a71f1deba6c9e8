import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * Announces a worker's /metrics address to Prometheus through file-based service discovery
 * (`file_sd_configs`): one JSON file per worker process in a directory Prometheus watches.
 * Scaled workers on one host network each take a free port, so no static list can name them;
 * the file goes when the process exits (a killed worker's file stays, and shows as a target down).
 *
 * @returns the file written, removed again by the returned function.
 */
export function publishScrapeTarget(options: { dir: string; host: string; port: number; role: string }): { file: string; remove: () => void } {
  mkdirSync(options.dir, { recursive: true });
  const name = `${options.role}-${hostname()}-${process.pid}`;
  const file = join(options.dir, `${name}.json`);
  // Any-interface binds are scraped over loopback (host networking).
  const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  const body = JSON.stringify([{ targets: [`${host}:${options.port}`], labels: { role: options.role, process: name } }]);
  // Prometheus may read at any moment: write aside, then rename into place.
  writeFileSync(`${file}.tmp`, body);
  renameSync(`${file}.tmp`, file);
  const remove = () => rmSync(file, { force: true });
  process.once('exit', remove);
  return { file, remove };
}
