import { cli, ServerOptions } from '@livekit/agents';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeProviders } from './config.js';
import { FULL_LOAD, WorkerCapacity } from './capacity.js';
import { leanJobProcessEnv } from './job-process-memory.js';
import { Deployments, DeploymentsError } from './deployments.js';
import { WorkerHeartbeat } from './fleet/worker-heartbeat.js';
import { createLogger } from './log.js';
import { MetricsHub } from './metrics/metrics-hub.js';
import { createWorkerMetrics } from './metrics/worker-metrics.js';
import { publishScrapeTarget } from './telemetry/scrape-target.js';
import { loadConfigOrExit } from './process-startup.js';
import { connectRedis } from './queues/redis.js';

/**
 * The agent worker process: registers with livekit-server under an explicit agent name and runs
 * each dispatched call in a warm job process (`job.ts`).
 */
function main(): void {
  const config = loadConfigOrExit();
  try {
    // Job processes load it again; a bad file stops the worker here, before it takes a call.
    Deployments.load(config.VOICEFLEET_DEPLOYMENTS_FILE);
  } catch (error) {
    if (error instanceof DeploymentsError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  // Before the framework forks its first job or inference process: they inherit this environment.
  leanJobProcessEnv(process.env, config.VOICEFLEET_JOB_SEMI_SPACE_MB);
  const log = createLogger(config.LOG_LEVEL, { role: 'worker' });
  log.info(
    { event: 'worker_starting', agentName: config.VOICEFLEET_AGENT_NAME, livekitUrl: config.LIVEKIT_URL, providers: describeProviders(config) },
    'worker starting',
  );

  // Job processes report to the worker's /metrics over a local socket; they inherit its path.
  const metrics = createWorkerMetrics();
  const hub = new MetricsHub(metrics, log);
  const socketPath = join(tmpdir(), `voicefleet-metrics-${process.pid}.sock`);
  process.env.VOICEFLEET_METRICS_SOCKET = socketPath;
  hub
    .start({ socketPath, host: config.VOICEFLEET_METRICS_HOST, port: config.VOICEFLEET_METRICS_PORT })
    .then(({ port }) => {
      log.info({ event: 'metrics_listening', port }, 'Prometheus metrics at /metrics');
      const dir = config.VOICEFLEET_METRICS_TARGETS_DIR;
      if (dir) publishScrapeTarget({ dir, host: config.VOICEFLEET_METRICS_HOST, port, role: 'worker' });
    })
    .catch((error: Error) => {
      console.error(`VOICEFLEET_METRICS_PORT: cannot serve metrics on ${config.VOICEFLEET_METRICS_HOST}:${config.VOICEFLEET_METRICS_PORT}: ${error.message}`);
      process.exit(2);
    });

  // The job file is loaded by each job process; keep its extension so tsx and compiled runs match.
  const ownFile = fileURLToPath(import.meta.url);
  const jobFile = fileURLToPath(new URL(`./job${extname(ownFile)}`, import.meta.url));

  // The operator console lists workers from these beats, idle ones too (worker/fleet/).
  const redis = connectRedis(config.REDIS_URL, 'producer');
  // A Redis restart only delays a beat; the job processes report their own Redis trouble.
  redis.on('error', (error: Error) => log.debug({ event: 'redis_unavailable', error: error.message }, 'redis unavailable'));
  const heartbeat = new WorkerHeartbeat(redis, {
    agentName: config.VOICEFLEET_AGENT_NAME,
    maxCalls: config.VOICEFLEET_MAX_CALLS_PER_WORKER,
    load: () => hub.load(),
  }).start();

  process.once('SIGTERM', () => {
    heartbeat.draining();
    log.info({ event: 'worker_draining', drainTimeoutMs: config.VOICEFLEET_DRAIN_TIMEOUT_MS }, 'worker draining: no new calls, running calls finish');
  });
  const capacity = new WorkerCapacity(
    { talking: config.VOICEFLEET_MAX_CALLS_PER_WORKER, holding: config.VOICEFLEET_MAX_HELD_CALLS_PER_WORKER },
    (jobId) => hub.callEnded(jobId),
  );
  cli.runApp(
    new ServerOptions({
      agent: jobFile,
      agentName: config.VOICEFLEET_AGENT_NAME,
      wsURL: config.LIVEKIT_URL,
      apiKey: config.LIVEKIT_API_KEY,
      apiSecret: config.LIVEKIT_API_SECRET,
      numIdleProcesses: config.VOICEFLEET_IDLE_PROCESSES,
      initializeProcessTimeout: config.VOICEFLEET_PROCESS_START_TIMEOUT_MS,
      // SIGTERM: no new jobs, running calls finish; at the timeout the rest are handed over (job.ts).
      drainTimeout: config.VOICEFLEET_DRAIN_TIMEOUT_MS,
      loadFunc: capacity.load,
      requestFunc: capacity.admit,
      loadThreshold: FULL_LOAD,
      port: config.VOICEFLEET_WORKER_HTTP_PORT,
      host: '127.0.0.1',
      logLevel: config.LOG_LEVEL,
    }),
  );
}

main();
