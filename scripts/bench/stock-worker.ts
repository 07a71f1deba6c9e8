import { cli, ServerOptions } from '@livekit/agents';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigOrExit } from '../../worker/process-startup.js';

/**
 * The stock peer's worker (`node --import tsx scripts/bench/stock-worker.ts start`): the
 * starter's `cli.runApp`, registered under VOICEFLEET_AGENT_NAME so a dispatch can target it.
 * Framework defaults everywhere else (idle processes, endpointing, turn detection) but two, each
 * of which would leave the peer with no calls to measure on a busy 2-core machine (findings about
 * the defaults, not latencies to compare):
 * - the time a job process has to load (VOICEFLEET_PROCESS_START_TIMEOUT_MS, as voicefleet's
 *   worker): the default 10 s kills processes mid-load, again and again;
 * - load: the default reports the machine's CPU load and marks the worker full at 0.7, which a
 *   machine running the callers, livekit-server and the other agent reaches at once; even below
 *   its own threshold a worker reporting load 1 got no dispatch from livekit-server here. Like
 *   voicefleet's worker (which reports call slots, not CPU), it takes every call.
 */
const config = loadConfigOrExit();
const ownFile = fileURLToPath(import.meta.url);
cli.runApp(
  new ServerOptions({
    agent: fileURLToPath(new URL(`./stock-agent${extname(ownFile)}`, import.meta.url)),
    agentName: config.VOICEFLEET_AGENT_NAME,
    wsURL: config.LIVEKIT_URL,
    apiKey: config.LIVEKIT_API_KEY,
    apiSecret: config.LIVEKIT_API_SECRET,
    initializeProcessTimeout: config.VOICEFLEET_PROCESS_START_TIMEOUT_MS,
    loadFunc: async () => 0,
    loadThreshold: Infinity,
    port: config.VOICEFLEET_WORKER_HTTP_PORT,
    host: '127.0.0.1',
    logLevel: config.LOG_LEVEL,
  }),
);
