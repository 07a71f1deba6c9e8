import { crmAdapterFor } from './crm/adapters/index.js';
import { CrmSyncWorker } from './crm/crm-sync-worker.js';
import { startLiveKitWebhooks } from './crm/livekit-webhooks.js';
import { Outbox } from './crm/outbox.js';
import { createLogger } from './log.js';
import { CallRegistry } from './queues/call-registry.js';
import { QUEUE_BOARD_PATH, startQueueBoard } from './queues/queue-board.js';
import { loadConfigOrExit, requireQueueRedisOrExit } from './process-startup.js';
import { connectRedis } from './queues/redis.js';
import { Queue } from 'bullmq';
import { CALLS_QUEUE } from './dialer/dialer.js';
import { createQueueMetrics } from './metrics/queue-metrics.js';
import { QUEUES } from './queues/queues.js';
import { livekitApiUrl } from './config.js';
import { CallSupervisor } from './supervisor/call-supervisor.js';
import { NoAgentFallback } from './supervisor/no-agent-fallback.js';
import { Deployments } from './deployments.js';
import { initializeLogger } from '@livekit/agents';
import { createRecordingStore } from './recording/call-recording.js';
import { startRecordingRetention } from './recording/recording-retention.js';
import { startConsole } from './console/server.js';

/** How often the supervisor looks for calls whose agent died. */
const SUPERVISE_EVERY_MS = 1000;
/** A call whose agents keep dying is resumed this many times, then left to the sweep. */
const MAX_RESUMES = 3;

/**
 * The crm-sync process: delivers call records from the crm-sync queue to the CRM, replays the
 * local outbox, sweeps for calls whose worker died, and has calls whose agent died mid-call
 * picked up by a new one (the call supervisor). SIGTERM lets running deliveries finish.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config.LOG_LEVEL, { role: 'crm-sync' });
  await requireQueueRedisOrExit(config);

  // One store (and, for S3, one client) for lost calls' recordings, the retention sweep and the console's playback.
  const recordings = createRecordingStore(config);
  const worker = new CrmSyncWorker({
    redisUrl: config.REDIS_URL,
    adapter: crmAdapterFor(config),
    log,
    concurrency: config.VOICEFLEET_CRM_CONCURRENCY,
    lockDurationMs: config.VOICEFLEET_CRM_LOCK_MS,
    backoff: { baseMs: config.VOICEFLEET_CRM_BACKOFF_BASE_MS, maxDelayMs: config.VOICEFLEET_CRM_BACKOFF_MAX_MS },
    outbox: new Outbox(config.VOICEFLEET_OUTBOX_DIR),
    staleCallMs: config.VOICEFLEET_STALE_CALL_MS,
    maintenanceEveryMs: config.VOICEFLEET_SWEEP_EVERY_MS,
    recordings,
  });
  worker.start();
  await worker.maintain();

  const webhookRedis = connectRedis(config.REDIS_URL, 'worker');
  webhookRedis.on('error', (error: Error) => log.debug({ event: 'redis_unavailable', error: error.message }, 'redis unavailable'));
  // Queue depths for /metrics, on the webhook port.
  const dead = new Queue(QUEUES.crmDeadLetter, { connection: webhookRedis });
  const calls = new Queue(CALLS_QUEUE, { connection: webhookRedis });
  for (const q of [dead, calls]) q.on('error', () => undefined);
  const metrics = createQueueMetrics({ [QUEUES.crmSync]: worker.queue, [QUEUES.crmDeadLetter]: dead, [CALLS_QUEUE]: calls });
  const webhooks = await startLiveKitWebhooks({
    metrics,
    host: config.VOICEFLEET_WEBHOOK_HOST,
    port: config.VOICEFLEET_WEBHOOK_PORT,
    apiKey: config.LIVEKIT_API_KEY,
    apiSecret: config.LIVEKIT_API_SECRET,
    redis: webhookRedis,
    registry: new CallRegistry(webhookRedis),
    staleCallMs: config.VOICEFLEET_STALE_CALL_MS,
    graceMs: 10_000,
    log,
  }).catch((error: Error) => {
    console.error(`VOICEFLEET_WEBHOOK_PORT: cannot listen on ${config.VOICEFLEET_WEBHOOK_HOST}:${config.VOICEFLEET_WEBHOOK_PORT}: ${error.message}`);
    process.exit(2);
  });
  log.info({ event: 'webhooks_listening', port: webhooks.port }, 'LiveKit webhooks accepted at /livekit/webhook, Prometheus metrics at /metrics');

  // Calls no agent takes hear an apology and the overflow path from this process (its audio
  // player logs through the framework's logger).
  initializeLogger({ pretty: false, level: 'warn' });
  const fallback = new NoAgentFallback({
    livekit: { wsUrl: config.LIVEKIT_URL, httpUrl: livekitApiUrl(config), apiKey: config.LIVEKIT_API_KEY, apiSecret: config.LIVEKIT_API_SECRET },
    deployments: Deployments.load(config.VOICEFLEET_DEPLOYMENTS_FILE),
    calls,
    records: { queue: worker.queue, redis: webhookRedis, outbox: new Outbox(config.VOICEFLEET_OUTBOX_DIR) },
    dialMaxAttempts: config.VOICEFLEET_DIAL_MAX_ATTEMPTS,
    voicemail: { dir: config.VOICEFLEET_RECORDINGS_DIR, maxMs: config.VOICEFLEET_VOICEMAIL_MAX_MS },
    recordings,
    log,
  });
  await fallback.prepare();
  // Calls whose agent died mid-call get a new agent that carries on (worker/supervisor/).
  const supervisor = new CallSupervisor({
    redis: webhookRedis,
    livekit: { httpUrl: livekitApiUrl(config), apiKey: config.LIVEKIT_API_KEY, apiSecret: config.LIVEKIT_API_SECRET },
    agentName: config.VOICEFLEET_AGENT_NAME,
    log,
    everyMs: SUPERVISE_EVERY_MS,
    maxResumes: MAX_RESUMES,
    pickupTimeoutMs: config.VOICEFLEET_AGENT_PICKUP_TIMEOUT_MS,
    fallback: (call) => fallback.answer(call),
  });
  supervisor.start();
  // Call recordings past VOICEFLEET_RECORDING_RETENTION_DAYS are deleted, at start and hourly.
  const retention = startRecordingRetention({ store: recordings, retentionDays: config.VOICEFLEET_RECORDING_RETENTION_DAYS, log });

  const board = config.VOICEFLEET_QUEUE_UI_PASSWORD
    ? await startQueueBoard({
        redisUrl: config.REDIS_URL,
        host: config.VOICEFLEET_WEBHOOK_HOST,
        port: config.VOICEFLEET_QUEUE_UI_PORT,
        user: config.VOICEFLEET_QUEUE_UI_USER,
        password: config.VOICEFLEET_QUEUE_UI_PASSWORD,
      }).catch((error: Error) => {
        console.error(`VOICEFLEET_QUEUE_UI_PORT: cannot listen on ${config.VOICEFLEET_WEBHOOK_HOST}:${config.VOICEFLEET_QUEUE_UI_PORT}: ${error.message}`);
        process.exit(2);
      })
    : undefined;
  if (board) log.info({ event: 'queue_board_listening', port: board.port, path: QUEUE_BOARD_PATH }, 'queue board served (basic auth)');
  else log.info({ event: 'queue_board_disabled' }, 'queue board off: set VOICEFLEET_QUEUE_UI_PASSWORD to serve it');

  // The operator console (worker/console/): talk to an agent, live calls, history, fleet health.
  const operatorConsole = config.VOICEFLEET_CONSOLE_PASSWORD
    ? await startConsole({
        host: config.VOICEFLEET_WEBHOOK_HOST,
        port: config.VOICEFLEET_CONSOLE_PORT,
        password: config.VOICEFLEET_CONSOLE_PASSWORD,
        redis: webhookRedis,
        livekit: { url: config.LIVEKIT_URL, httpUrl: livekitApiUrl(config), apiKey: config.LIVEKIT_API_KEY, apiSecret: config.LIVEKIT_API_SECRET },
        agentName: config.VOICEFLEET_AGENT_NAME,
        queues: { [QUEUES.crmSync]: worker.queue, [QUEUES.crmDeadLetter]: dead, [CALLS_QUEUE]: calls },
        queueBoardUrl: board ? `http://${config.VOICEFLEET_WEBHOOK_HOST}:${board.port}${QUEUE_BOARD_PATH}` : undefined,
        recordings,
      }).catch((error: Error) => {
        console.error(`VOICEFLEET_CONSOLE_PORT: cannot listen on ${config.VOICEFLEET_WEBHOOK_HOST}:${config.VOICEFLEET_CONSOLE_PORT}: ${error.message}`);
        process.exit(2);
      })
    : undefined;
  if (operatorConsole) log.info({ event: 'console_listening', port: operatorConsole.port }, 'operator console served (login)');
  else log.info({ event: 'console_disabled' }, 'operator console off: set VOICEFLEET_CONSOLE_PASSWORD to serve it');

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ event: 'crm_sync_stopping', signal }, 'crm-sync stopping after running deliveries');
    webhooks.server.close();
    retention.stop();
    void board?.close();
    void operatorConsole?.close();
    supervisor
      .stop()
      .then(() => worker.close())
      .then(() => webhookRedis.quit())
      .then(() => process.exit(0))
      .catch((error: Error) => {
        log.error({ event: 'crm_sync_stop_failed', error: error.message }, 'crm-sync did not stop cleanly');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

void main();
