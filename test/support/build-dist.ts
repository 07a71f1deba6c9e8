import { buildDist } from '../../scripts/build.js';

/**
 * vitest's global set-up: the processes tests start run the compiled tree (dist/), so a test run
 * straight after an edit, without `npm test`'s set-up, must not start yesterday's code.
 */
export default async function setup(): Promise<void> {
  await buildDist();
}
