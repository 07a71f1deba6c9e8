import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../worker/config.js';
import { parseWorkflowName, playgroundAccess, PlaygroundAccessError } from './playground-access.js';

/**
 * `npm run token`: the LiveKit URL and a participant token whose room configuration dispatches the
 * agent, for the LiveKit Agents Playground or any livekit-meet style client.
 *
 *   npm run token -- [--workflow booking] [--room my-room] [--identity me] [--ttl 2h]
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      workflow: { type: 'string' },
      room: { type: 'string' },
      identity: { type: 'string' },
      ttl: { type: 'string' },
    },
    strict: true,
  });
  const config = loadConfig();
  const access = await playgroundAccess(config, {
    workflow: values.workflow === undefined ? undefined : parseWorkflowName(values.workflow),
    room: values.room,
    identity: values.identity,
    ttl: values.ttl,
  });
  console.log(access.lines.join('\n'));
}

main().catch((error: unknown) => {
  const known = error instanceof ConfigError || error instanceof PlaygroundAccessError || (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION';
  console.error(known ? (error as Error).message : `token: ${(error as Error).stack ?? String(error)}`);
  process.exitCode = 2;
});
