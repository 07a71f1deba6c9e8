/**
 * `npm start`: the whole local fleet in one terminal. Starts redis, livekit-server, livekit-sip
 * (when its binary exists) and N agent workers in order, each after the previous is ready;
 * prints where to connect; stops every child it started on Ctrl-C / SIGTERM, or when one of them
 * dies.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../../worker/config.js';
import { compiledEntry } from '../../worker/project-root.js';
import { playgroundAccess } from '../playground-access.js';
import { DEFAULT_LIVEKIT_PORTS } from './livekit-config.js';
import { ManagedProcess } from './managed-process.js';
import { LOCAL_BIN, PROJECT_ROOT, startLiveKit, startRedis } from './servers.js';
import { waitUntil } from './readiness.js';

const children: ManagedProcess[] = [];
let shuttingDown = false;

function say(line: string): void {
  console.log(`[fleet] ${line}`);
}

async function shutdown(code: number, why: string): Promise<never> {
  if (!shuttingDown) {
    shuttingDown = true;
    say(`stopping (${why})`);
    for (const child of [...children].reverse()) await child.stop();
    say('all processes stopped');
  }
  process.exit(code);
}

/** A child the fleet cannot run without: its unexpected exit stops the fleet. */
function required(child: ManagedProcess): ManagedProcess {
  children.push(child);
  void child.exited.then(({ code, signal }) => {
    if (!child.stopping && !shuttingDown) void shutdown(1, `${child.name} exited unexpectedly (${code ?? signal})`);
  });
  return child;
}

function findSipBinary(): string | undefined {
  const local = join(LOCAL_BIN, 'livekit-sip');
  if (existsSync(local)) return local;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'livekit-sip'))) return join(dir, 'livekit-sip');
  }
  return undefined;
}

async function startWorker(index: number, config: Config, livekitUrl: string): Promise<ManagedProcess> {
  let registered = false;
  let warm = config.VOICEFLEET_IDLE_PROCESSES === 0;
  const name = `worker-${index + 1}`;
  const worker = required(
    new ManagedProcess({
      name,
      command: process.execPath,
      args: [compiledEntry('worker/main.ts'), 'start'],
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        LIVEKIT_URL: livekitUrl,
        VOICEFLEET_WORKER_HTTP_PORT: String(config.VOICEFLEET_WORKER_HTTP_PORT === 0 ? 0 : config.VOICEFLEET_WORKER_HTTP_PORT + index),
        VOICEFLEET_METRICS_PORT: String(config.VOICEFLEET_METRICS_PORT === 0 ? 0 : config.VOICEFLEET_METRICS_PORT + index),
      },
      onLine: (line) => {
        if (line.includes('"registered worker"')) registered = true;
        if (line.includes('"job_process_ready"')) warm = true;
        console.log(`[${name}] ${line}`);
      },
    }),
  );
  // Ready means registered and holding a warm job process, so the first call is not a cold one.
  await waitUntil(`${name} registration and warm-up`, async () => {
    if (!worker.running) throw new Error(`${name} exited during start-up`);
    return registered && warm;
  }, 90_000);
  return worker;
}

/** The crm-sync process: call records from the queue (and the outbox) to the CRM. */
async function startCrmSync(redisUrl: string): Promise<ManagedProcess> {
  let ready = false;
  const crmSync = required(
    new ManagedProcess({
      name: 'crm-sync',
      command: process.execPath,
      args: [compiledEntry('worker/crm-sync-main.ts')],
      cwd: PROJECT_ROOT,
      env: { ...process.env, REDIS_URL: redisUrl },
      onLine: (line) => {
        if (line.includes('"crm_sync_started"')) ready = true;
        console.log(`[crm-sync] ${line}`);
      },
    }),
  );
  await waitUntil('crm-sync start-up', async () => {
    if (!crmSync.running) throw new Error('crm-sync exited during start-up');
    return ready;
  }, 30_000);
  return crmSync;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { workers: { type: 'string', default: '1' }, 'no-workers': { type: 'boolean', default: false } },
  });
  const workers = values['no-workers'] ? 0 : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 0 || workers > 16) throw new Error('--workers takes a whole number 0..16');

  const config = loadConfig();
  process.on('SIGINT', () => void shutdown(0, 'SIGINT'));
  process.on('SIGTERM', () => void shutdown(0, 'SIGTERM'));

  const redisPort = config.VOICEFLEET_REDIS_PORT;
  say(`starting redis on 127.0.0.1:${redisPort}`);
  required(await startRedis({ port: redisPort, dataDir: join(PROJECT_ROOT, '.local', 'run', `redis-${redisPort}`) }));
  // Every process of the fleet uses this Redis, whatever REDIS_URL says in the environment.
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  process.env.REDIS_URL = redisUrl;
  // A local board still needs a password; one is made up for this run unless you set your own.
  process.env.VOICEFLEET_QUEUE_UI_PASSWORD ||= randomBytes(12).toString('base64url');
  process.env.VOICEFLEET_CONSOLE_PASSWORD ||= randomBytes(12).toString('base64url');
  say('starting crm-sync');
  await startCrmSync(redisUrl);

  const livekitPort = config.VOICEFLEET_LIVEKIT_PORT;
  say(`starting livekit-server on 127.0.0.1:${livekitPort}`);
  const livekit = await startLiveKit({
    ports: {
      ...DEFAULT_LIVEKIT_PORTS,
      webhook: { url: `http://127.0.0.1:${config.VOICEFLEET_WEBHOOK_PORT}/livekit/webhook`, apiKey: config.LIVEKIT_API_KEY },
      port: livekitPort,
      rtcTcpPort: livekitPort + 1,
      udpPortStart: config.VOICEFLEET_RTC_UDP_PORT_START,
      udpPortEnd: config.VOICEFLEET_RTC_UDP_PORT_START + 100,
      redisAddress: `127.0.0.1:${redisPort}`,
    },
    apiKey: config.LIVEKIT_API_KEY,
    apiSecret: config.LIVEKIT_API_SECRET,
  });
  required(livekit.process);

  const sipBinary = findSipBinary();
  let sipLine: string;
  if (sipBinary) {
    required(
      new ManagedProcess({
        name: 'sip',
        command: sipBinary,
        args: ['--config', join(PROJECT_ROOT, 'infra', 'sip', 'config.yaml')],
        env: { ...process.env, LIVEKIT_API_KEY: config.LIVEKIT_API_KEY, LIVEKIT_API_SECRET: config.LIVEKIT_API_SECRET },
      }),
    );
    sipLine = 'SIP: dial sip:<number>@127.0.0.1:5060 (trunks and dispatch rules: infra/sip/)';
  } else {
    sipLine = 'SIP: disabled: no livekit-sip binary (scripts/setup explains why); WebRTC callers work';
  }

  for (let i = 0; i < workers; i++) await startWorker(i, config, livekit.url);

  const playground = await playgroundAccess(config, { url: livekit.url, identity: 'playground-user', ttl: '24h' });
  console.log(
    [
      '',
      '========================= voicefleet is up =========================',
      `LiveKit:     ${livekit.url}   (API key ${config.LIVEKIT_API_KEY})`,
      `Workers:     ${workers} x agent "${config.VOICEFLEET_AGENT_NAME}"`,
      sipLine,
      `Queues:      http://127.0.0.1:${config.VOICEFLEET_QUEUE_UI_PORT}/queues  (user ${config.VOICEFLEET_QUEUE_UI_USER}, password ${process.env.VOICEFLEET_QUEUE_UI_PASSWORD})`,
      `Console:     http://127.0.0.1:${config.VOICEFLEET_CONSOLE_PORT}/  (password ${process.env.VOICEFLEET_CONSOLE_PASSWORD})`,
      `CRM sync:    call records -> ${config.VOICEFLEET_CRM}${config.VOICEFLEET_CRM === 'file' ? ` (${config.VOICEFLEET_CRM_FILE})` : ''}`,
      'Talk to it:  npm run call -- --say "what are your opening hours"',
      'Playground:  (another token, or one for a workflow: npm run token -- --workflow booking)',
      `  URL:   ${playground.url}`,
      `  Token: ${playground.token}`,
      ...playground.usage.map((line) => `  ${line}`),
      'Stop:        Ctrl-C',
      '=====================================================================',
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : `[fleet] failed: ${(error as Error).message}`);
  void shutdown(1, 'start-up failed');
});
