import { livekitApiUrl } from './config.js';
import { LiveKitCallPlacer } from './dialer/call-placer.js';
import { Dialer } from './dialer/dialer.js';
import { createLogger } from './log.js';
import { loadConfigOrExit, requireQueueRedisOrExit } from './process-startup.js';

/**
 * The outbound dialer process: takes calls off the `calls` queue and places them through
 * livekit-sip's outbound trunk when their window opens. SIGTERM lets calls being placed finish.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  if (!config.VOICEFLEET_SIP_OUTBOUND_TRUNK_ID) {
    console.error('VOICEFLEET_SIP_OUTBOUND_TRUNK_ID: required to place calls (create an outbound trunk with `lk sip outbound create`, see infra/sip/)');
    process.exit(2);
  }
  const log = createLogger(config.LOG_LEVEL, { role: 'dialer' });
  await requireQueueRedisOrExit(config);

  const dialer = new Dialer({
    redisUrl: config.REDIS_URL,
    placer: new LiveKitCallPlacer({
      httpUrl: livekitApiUrl(config),
      apiKey: config.LIVEKIT_API_KEY,
      apiSecret: config.LIVEKIT_API_SECRET,
      trunkId: config.VOICEFLEET_SIP_OUTBOUND_TRUNK_ID,
      agentName: config.VOICEFLEET_AGENT_NAME,
      ringingTimeoutS: config.VOICEFLEET_DIAL_RINGING_TIMEOUT_S,
    }),
    log,
    concurrency: config.VOICEFLEET_DIAL_CONCURRENCY,
    rate: { max: config.VOICEFLEET_DIAL_MAX_PER_MINUTE },
    allowPrefixes: config.VOICEFLEET_DIAL_ALLOW_PREFIXES,
    maxAttempts: config.VOICEFLEET_DIAL_MAX_ATTEMPTS,
    retryBaseMs: config.VOICEFLEET_DIAL_RETRY_BASE_MS,
  });
  dialer.start();
  log.info({ event: 'dialer_started', concurrency: config.VOICEFLEET_DIAL_CONCURRENCY, perMinute: config.VOICEFLEET_DIAL_MAX_PER_MINUTE }, 'dialer started');
  const stop = () =>
    void dialer
      .close()
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
