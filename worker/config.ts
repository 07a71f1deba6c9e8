/**
 * voicefleet configuration: parsed and validated once, at process start, from the environment.
 *
 * Every value has a documented dev default so `npm start` works on a fresh machine; secrets come
 * only from the environment. A bad value fails fast with the offending key named.
 */
import { z } from 'zod';

/** LiveKit's dev key pair, the same one `livekit-server --dev` uses. Never use it in production. */
export const DEV_API_KEY = 'devkey';
export const DEV_API_SECRET = 'secret-voicefleet-dev-only-change-me-0001';

const port = z.coerce.number().int().min(1).max(65535);
const positiveMs = z.coerce.number().int().positive();
const optionalSecret = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

/** An optional key that an env file may leave empty (`KEY=`): empty means not set. */
const emptyIsUnset = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

export const configSchema = z.object({
  LIVEKIT_URL: z
    .string()
    .default('ws://127.0.0.1:7880')
    .refine((v) => /^wss?:\/\/[^\s]+$/.test(v), 'must be a ws:// or wss:// URL'),
  LIVEKIT_API_KEY: z.string().min(1).default(DEV_API_KEY),
  LIVEKIT_API_SECRET: z
    .string()
    .min(32, 'must be at least 32 characters (livekit-server rejects shorter secrets)')
    .default(DEV_API_SECRET),
  REDIS_URL: z
    .string()
    .default('redis://127.0.0.1:6379')
    .refine((v) => /^rediss?:\/\/[^\s]+$/.test(v), 'must be a redis:// or rediss:// URL'),
  /** Explicit dispatch name: SIP dispatch rules and the dispatch API target the worker by it. */
  VOICEFLEET_AGENT_NAME: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes, at most 63 characters')
    .default('voicefleet'),
  /** Deployments: which workflow and business facts answer each dialed number (worker/deployments.ts). */
  VOICEFLEET_DEPLOYMENTS_FILE: z.string().min(1).default('config/deployments.json'),
  /** Port of the worker's health/status HTTP server; each worker on a host needs its own. */
  /** 0: a free port the OS picks (workers scaled on one host network, as docker compose does). */
  VOICEFLEET_WORKER_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8081),
  /** The worker's Prometheus endpoint (/metrics); `npm start` adds one per extra worker; 0 = any free port. */
  VOICEFLEET_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /** Interface the metrics port binds (`0.0.0.0` for a Prometheus on another host). */
  VOICEFLEET_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /**
   * Directory where each worker writes its /metrics address for Prometheus's file discovery
   * (infra/monitoring/prometheus.yml); docker compose sets it. Unset: no file.
   */
  VOICEFLEET_METRICS_TARGETS_DIR: z.string().trim().min(1, 'must be a directory path').optional(),
  /**
   * Time a new job process has to load its models. A burst of calls on a small machine starts
   * several at once; the framework's 10 s would kill them mid-load, again and again.
   */
  VOICEFLEET_PROCESS_START_TIMEOUT_MS: positiveMs.default(60_000),
  /**
   * V8's young generation in each job process, in MiB (Node's default, 16, when 0). A call
   * allocates many short-lived audio frames and little else, so small semi-spaces cost a few more
   * short scavenges and save tens of MiB per call (worker/job-process-memory.ts). Not smaller: at
   * 2 MiB a burst of call starts promoted their start-up garbage and paused 110-190 ms in GC.
   */
  VOICEFLEET_JOB_SEMI_SPACE_MB: z.coerce.number().int().min(0).max(64).default(4),
  /** Job processes kept warm, each with VAD and end-of-turn models loaded. */
  VOICEFLEET_IDLE_PROCESSES: z.coerce.number().int().min(0).max(32).default(1),
  /**
   * Calls one worker process takes at once. Load is reported as busy call slots, not CPU: on a
   * small host the CPU figure swings with neighbours (livekit-server, callers) and a worker that
   * reads "full" for a moment makes livekit-server drop the dispatch for good.
   */
  VOICEFLEET_MAX_CALLS_PER_WORKER: z.coerce.number().int().min(1).max(64).default(8),
  /**
   * Callers a worker keeps on hold (hold music, place in line) when all its agents are busy; a
   * held call costs no speech processing. Beyond these, livekit-server finds another worker.
   */
  VOICEFLEET_MAX_HELD_CALLS_PER_WORKER: z.coerce.number().int().min(0).max(256).default(8),
  /** Time between announcements of a held caller's place in line. */
  VOICEFLEET_HOLD_ANNOUNCE_EVERY_MS: positiveMs.default(30_000),
  /** Voicemails of callers whose wait ran out (WAV files, fsync'd), and call recordings under calls/. */
  VOICEFLEET_RECORDINGS_DIR: z.string().min(1).default('.local/data/recordings'),
  /**
   * Records each answered call as stereo Ogg-Opus (left caller, right agent). Off unless asked
   * for: recording a phone call needs a legal basis (often the caller's consent), which only the
   * deployment's owner can decide.
   */
  VOICEFLEET_RECORDING: z.enum(['off', 'on']).default('off'),
  /** Said before anything else on a recorded call (the recording includes it, as proof); empty: none. */
  VOICEFLEET_RECORDING_CONSENT: z.string().trim().max(500).default(''),
  /**
   * Where call recordings go: the local folder (VOICEFLEET_RECORDINGS_DIR/calls), or an
   * S3-compatible bucket when workers and the console run on different hosts. The S3 credentials
   * are the AWS SDK's own (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile or a role).
   */
  VOICEFLEET_RECORDINGS_STORE: z.enum(['local', 's3']).default('local'),
  VOICEFLEET_RECORDINGS_S3_BUCKET: emptyIsUnset(
    z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name: 3-63 lowercase letters, digits, dots and dashes'),
  ),
  /** Before `calls/` in each object key: "" or a path ending in "/", such as "voicefleet/prod/". */
  VOICEFLEET_RECORDINGS_S3_PREFIX: z
    .string()
    .regex(/^([A-Za-z0-9!_.*'()-]+\/)*$/, 'must be empty or end in "/", such as voicefleet/prod/')
    .default(''),
  VOICEFLEET_RECORDINGS_S3_REGION: z.string().regex(/^[a-z0-9-]{2,32}$/, 'must be a region name such as us-east-1').default('us-east-1'),
  /** An S3-compatible endpoint other than AWS (MinIO, Ceph, R2...); path-style addressing then. */
  VOICEFLEET_RECORDINGS_S3_ENDPOINT: emptyIsUnset(z.string().regex(/^https?:\/\/[^\s]+$/, 'must be an http:// or https:// URL such as http://127.0.0.1:9000')),
  /** Recordings older than this many days are deleted by crm-sync (at start and hourly). */
  VOICEFLEET_RECORDING_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  VOICEFLEET_VOICEMAIL_MAX_MS: positiveMs.default(60_000),
  /** Local TTS engine for the offline default stack. */
  VOICEFLEET_LOCAL_TTS: z.enum(['flite', 'espeak-ng']).default('flite'),
  /** Time a cloud STT attempt has (to connect, to answer) before the local recognizer takes over. */
  VOICEFLEET_STT_ATTEMPT_TIMEOUT_MS: positiveMs.default(5000),
  /**
   * Time a cloud STT has, after the caller stops speaking (VAD), to send the words back before
   * the local recognizer takes over and is given the utterance again. A live stream that died
   * quietly is otherwise never noticed.
   */
  VOICEFLEET_STT_FINAL_TIMEOUT_MS: positiveMs.default(1500),
  /**
   * Time a cloud LLM has to start answering before the workflow engine answers instead; short,
   * because the caller hears nothing meanwhile.
   */
  VOICEFLEET_LLM_ATTEMPT_TIMEOUT_MS: positiveMs.default(1200),
  /**
   * Time a cloud TTS has to deliver audio before the local TTS speaks the sentence instead; the
   * caller hears nothing meanwhile, and the OpenAI plugin only answers with the whole sentence.
   */
  VOICEFLEET_TTS_ATTEMPT_TIMEOUT_MS: positiveMs.default(1500),
  /**
   * Silence a caller may hear after they stop talking (VAD end of speech, itself about 0.55 s
   * after their last word) before a holding phrase plays on the background track while the agent
   * still thinks (`call-audio/dead-air-filler.ts`); 0 turns it off. With the VAD's delay and
   * playout, a caller hears something within 2 s whatever the providers do.
   */
  VOICEFLEET_DEAD_AIR_BUDGET_MS: z.coerce.number().int().min(0).default(1200),
  /**
   * Silence after which the VAD says the caller stopped, for turn-taking. The framework commits a
   * turn no sooner than this after the last word, whatever endpointing allows, so it stays under
   * endpointing's 400 ms floor and the end-of-turn model decides; the model asks for its
   * prediction at 200 ms of silence and needs at least 250. The local recognizer keeps Silero's
   * 550 to cut utterances.
   */
  VOICEFLEET_VAD_MIN_SILENCE_MS: z.coerce.number().int().min(250, 'must be at least 250 (the end-of-turn model needs it)').max(2000).default(300),
  /** Bookings of the local calendar (the booking workflow's default calendar port). */
  VOICEFLEET_CALENDAR_FILE: z.string().min(1).default('.local/data/calendar.json'),
  /** Support tickets of the local ticket port (the support triage workflow's default). */
  VOICEFLEET_TICKETS_FILE: z.string().min(1).default('.local/data/tickets.jsonl'),
  /** Caller silence before each rung of the silence ladder (reprompt, reprompt, goodbye). */
  VOICEFLEET_SILENCE_PROMPT_AFTER_MS: positiveMs.default(8000),
  DEEPGRAM_API_KEY: optionalSecret,
  OPENAI_API_KEY: optionalSecret,
  /** OpenAI-compatible endpoint; set for local servers or proxies. */
  OPENAI_BASE_URL: z.url().optional(),
  OPENAI_LLM_MODEL: z.string().min(1).default('gpt-4.1-mini'),
  OPENAI_TTS_MODEL: z.string().min(1).default('gpt-4o-mini-tts'),
  OPENAI_TTS_VOICE: z.string().min(1).default('alloy'),
  DEEPGRAM_STT_MODEL: z.string().min(1).default('nova-3'),
  /** Deepgram endpoint; set for a self-hosted Deepgram or a proxy. */
  DEEPGRAM_BASE_URL: z
    .string()
    .regex(/^wss?:\/\/[^\s/]+(:\d+)?$/, 'must be a ws:// or wss:// origin such as wss://api.deepgram.com')
    .default('wss://api.deepgram.com'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  /**
   * OTLP/HTTP (protobuf) collector base URL (the standard OTel variable); job processes export
   * the framework's spans and a `voicefleet.turn` span per turn to `<url>/v1/traces`. Unset: no tracing.
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .string()
    .trim()
    .transform((v) => (v === '' ? undefined : v))
    .optional()
    .refine((v) => v === undefined || /^https?:\/\/[^\s]+$/.test(v), 'must be an http:// or https:// URL such as http://127.0.0.1:4318'),
  VOICEFLEET_LIVEKIT_PORT: port.default(7880),
  VOICEFLEET_REDIS_PORT: port.default(6379),
  /** First of the 101 UDP ports livekit-server of the local fleet uses for media. */
  VOICEFLEET_RTC_UDP_PORT_START: z.coerce.number().int().min(1024).max(65435).default(50000),
  /** Where call records go: a local JSON-lines file (dev), a signed webhook, or HubSpot. */
  VOICEFLEET_CRM: z.enum(['file', 'webhook', 'hubspot']).default('file'),
  VOICEFLEET_CRM_FILE: z.string().min(1).default('.local/data/crm-records.jsonl'),
  VOICEFLEET_CRM_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Shared secret the webhook signature is made with (HMAC-SHA256); env only. */
  VOICEFLEET_CRM_WEBHOOK_SECRET: optionalSecret.refine((v) => v === undefined || v.length >= 16, 'must be at least 16 characters'),
  HUBSPOT_ACCESS_TOKEN: optionalSecret,
  HUBSPOT_BASE_URL: z.url({ protocol: /^https?$/ }).default('https://api.hubapi.com'),
  /** One CRM request's deadline; a slower answer counts as a failure to retry. */
  VOICEFLEET_CRM_TIMEOUT_MS: positiveMs.default(10_000),
  VOICEFLEET_CRM_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** A crm-sync job not renewed for this long (its process died) is run again. */
  VOICEFLEET_CRM_LOCK_MS: positiveMs.default(30_000),
  VOICEFLEET_CRM_BACKOFF_BASE_MS: positiveMs.default(1000),
  VOICEFLEET_CRM_BACKOFF_MAX_MS: positiveMs.default(300_000),
  /** Call records that could not be queued wait here (fsync'd) until Redis takes them. */
  VOICEFLEET_OUTBOX_DIR: z.string().min(1).default('.local/outbox'),
  /** A live call with no heartbeat for this long lost its worker; the sweep records it. */
  VOICEFLEET_STALE_CALL_MS: positiveMs.default(60_000),
  /** crm-sync's HTTP port for LiveKit webhooks (room_finished speeds up the sweep). */
  VOICEFLEET_WEBHOOK_PORT: port.default(8090),
  /** Interface it binds: 127.0.0.1 on a laptop, 0.0.0.0 in a container. */
  VOICEFLEET_WEBHOOK_HOST: z.string().min(1).default('127.0.0.1'),
  /** Port of the queue board (Bull Board at /queues), served by crm-sync. */
  VOICEFLEET_QUEUE_UI_PORT: port.default(8091),
  VOICEFLEET_QUEUE_UI_USER: z.string().min(1).default('admin'),
  /** The board's password (basic auth); env only. Unset: no board. */
  VOICEFLEET_QUEUE_UI_PASSWORD: optionalSecret.refine((v) => v === undefined || v.length >= 12, 'must be at least 12 characters'),
  /** Port of the operator console (worker/console/), served by crm-sync. */
  VOICEFLEET_CONSOLE_PORT: z.coerce.number().int().min(0).max(65535).default(8092),
  /** The console's login password; env only. Unset: no console. */
  VOICEFLEET_CONSOLE_PASSWORD: optionalSecret.refine((v) => v === undefined || v.length >= 12, 'must be at least 12 characters'),
  /** Outbound SIP trunk the dialer places calls through (livekit-sip); the dialer needs it. */
  VOICEFLEET_SIP_OUTBOUND_TRUNK_ID: z.string().regex(/^ST_[A-Za-z0-9]+$/, 'must be a LiveKit SIP trunk id such as ST_abc123').optional(),
  /** E.164 prefixes the dialer may call, comma-separated. */
  VOICEFLEET_DIAL_ALLOW_PREFIXES: z
    .string()
    .default('+1')
    .transform((v) => v.split(',').map((p) => p.trim()).filter(Boolean))
    .refine((list) => list.every((p) => /^\+\d{1,6}$/.test(p)), 'must be comma-separated prefixes such as +1,+44'),
  /** Outbound calls placed at once; keep at or below the fleet's free call slots. */
  VOICEFLEET_DIAL_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(4),
  /** Calls started per minute on the trunk. */
  VOICEFLEET_DIAL_MAX_PER_MINUTE: z.coerce.number().int().min(1).max(6000).default(30),
  VOICEFLEET_DIAL_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  /** Wait after a first busy / no answer / voicemail; each later retry waits 4x longer. */
  VOICEFLEET_DIAL_RETRY_BASE_MS: positiveMs.default(900_000),
  VOICEFLEET_DIAL_RINGING_TIMEOUT_S: z.coerce.number().int().min(5).max(120).default(30),
  /** How often crm-sync replays the outbox and sweeps for lost calls. */
  VOICEFLEET_SWEEP_EVERY_MS: positiveMs.default(5000),
  /**
   * After SIGTERM a worker takes no new call and lets its calls finish for this long; calls still
   * running then are handed to the call supervisor, which gives each to another worker.
   */
  VOICEFLEET_DRAIN_TIMEOUT_MS: positiveMs.default(600_000),
  /**
   * A caller with no agent for this long (no worker took the call, or none took its re-dispatch)
   * hears an apology from the supervisor and goes to the deployment's overflow (callback / voicemail).
   */
  VOICEFLEET_AGENT_PICKUP_TIMEOUT_MS: positiveMs.default(6000),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly issues: { key: string; message: string }[]) {
    super(
      `invalid configuration:\n${issues.map((i) => `  ${i.key}: ${i.message}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

/** Parses the environment; throws ConfigError naming every bad key. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = configSchema.superRefine(requireCrmSettings).safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({
      key: String(issue.path[0] ?? '(root)'),
      message: issue.message,
    })),
  );
}

/** The chosen CRM's and recording store's own settings must be there; the others may be absent. */
function requireCrmSettings(config: Config, ctx: z.RefinementCtx): void {
  const need = (key: keyof Config, why: string) => {
    if (config[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: why });
  };
  if (config.VOICEFLEET_CRM === 'webhook') {
    need('VOICEFLEET_CRM_WEBHOOK_URL', 'required when VOICEFLEET_CRM=webhook');
    need('VOICEFLEET_CRM_WEBHOOK_SECRET', 'required when VOICEFLEET_CRM=webhook');
  }
  if (config.VOICEFLEET_CRM === 'hubspot') need('HUBSPOT_ACCESS_TOKEN', 'required when VOICEFLEET_CRM=hubspot');
  if (config.VOICEFLEET_RECORDINGS_STORE === 's3') need('VOICEFLEET_RECORDINGS_S3_BUCKET', 'required when VOICEFLEET_RECORDINGS_STORE=s3');
}

/** The server API lives on the same host and port as LiveKit's signalling WebSocket. */
export function livekitApiUrl(config: Pick<Config, 'LIVEKIT_URL'>): string {
  return config.LIVEKIT_URL.replace(/^ws(s?):\/\//, 'http$1://');
}

/** What a log line may say about the config: which providers run, never the secrets. */
export function describeProviders(config: Config): { stt: string; llm: string; tts: string } {
  return {
    stt: config.DEEPGRAM_API_KEY ? `deepgram:${config.DEEPGRAM_STT_MODEL} -> pocketsphinx` : 'pocketsphinx',
    llm: config.OPENAI_API_KEY ? `openai:${config.OPENAI_LLM_MODEL} -> workflow-engine` : 'workflow-engine',
    tts: config.OPENAI_API_KEY
      ? `openai:${config.OPENAI_TTS_MODEL} -> ${config.VOICEFLEET_LOCAL_TTS}`
      : config.VOICEFLEET_LOCAL_TTS,
  };
}
