import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { httpOk, portInUse, redisPing, waitUntil } from '../scripts/fleet/readiness.js';
import { freePort } from './support/servers.js';
import { descendantsOf, isAlive } from './support/process-tree.js';

interface Fleet {
  child: ChildProcess;
  output: string[];
  ports: { redis: number; livekit: number };
  exit: Promise<number | null>;
}

async function startFleet(): Promise<Fleet> {
  const ports = { redis: await freePort(), livekit: await freePort() };
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/fleet/main.ts', '--workers', '1'], {
    env: {
      ...process.env,
      VOICEFLEET_REDIS_PORT: String(ports.redis),
      VOICEFLEET_LIVEKIT_PORT: String(ports.livekit),
      VOICEFLEET_WORKER_HTTP_PORT: String(await freePort()),
      VOICEFLEET_WEBHOOK_PORT: String(await freePort()),
      VOICEFLEET_QUEUE_UI_PORT: String(await freePort()),
      VOICEFLEET_RTC_UDP_PORT_START: String(41000 + Math.floor(Math.random() * 80) * 200),
      VOICEFLEET_AGENT_NAME: `vf-fleet-${randomUUID().slice(0, 6)}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => output.push(l));
  createInterface({ input: child.stderr! }).on('line', (l) => output.push(l));
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  return { child, output, ports, exit };
}

// The banner wait alone may take 120 s on a loaded machine, and stopping grants each child a
// 10 s grace period, so the vitest default of 60 s would cut a slow but healthy run short.
const FLEET_TEST_TIMEOUT_MS = 200_000;

function bannerValue(output: string[], label: string): string | undefined {
  return output.find((l) => l.trimStart().startsWith(label))?.split(label)[1]?.trim();
}

describe('npm start fleet supervisor', () => {
  let fleet: Fleet | undefined;

  afterEach(async ({ task }) => {
    // A timed-out test says nothing about where the fleet stood; its own output does.
    if (fleet && task.result?.state !== 'pass') console.error(`fleet output:\n${fleet.output.slice(-80).join('\n')}`);
    if (fleet && fleet.child.exitCode === null) {
      fleet.child.kill('SIGKILL');
      for (const pid of descendantsOf(fleet.child.pid!)) process.kill(pid, 'SIGKILL');
    }
    fleet = undefined;
  });

  it('starts redis, livekit-server and a worker, prints how to connect, and stops every child on SIGTERM', async () => {
    fleet = await startFleet();
    const f = fleet;
    await waitUntil('the fleet banner', async () => f.output.some((l) => l.includes('voicefleet is up')), 120_000);

    expect(await redisPing(f.ports.redis)).toBe(true);
    expect(await httpOk(`http://127.0.0.1:${f.ports.livekit}`)).toBe(true);
    expect(bannerValue(f.output, 'URL:')).toBe(`ws://127.0.0.1:${f.ports.livekit}`);
    const token = bannerValue(f.output, 'Token:')!;
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    expect(claims.roomConfig.agents[0].agentName).toMatch(/^vf-fleet-/);
    expect(claims.video.roomJoin).toBe(true);
    expect(f.output.some((l) => l.startsWith('[worker-1]') && l.includes('registered worker'))).toBe(true);
    expect(f.output.some((l) => l.startsWith('[crm-sync]') && l.includes('"crm_sync_started"'))).toBe(true);
    // The queue board is up behind the password the banner prints.
    const queuesLine = f.output.find((l) => l.startsWith('Queues:'))!;
    const [, boardUrl, user, password] = /^Queues:\s+(\S+)\s+\(user (\S+), password (\S+)\)$/.exec(queuesLine)!;
    const auth = { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
    expect((await fetch(`${boardUrl}/api/queues`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${boardUrl}/api/queues`)).status).toBe(401);

    const children = descendantsOf(f.child.pid!);
    // redis, livekit-server, crm-sync, the worker and its warm job process(es) at least
    expect(children.length).toBeGreaterThanOrEqual(5);

    f.child.kill('SIGTERM');
    expect(await f.exit).toBe(0);
    expect(children.filter(isAlive)).toEqual([]);
    expect(await portInUse(f.ports.redis)).toBe(false);
    expect(await portInUse(f.ports.livekit)).toBe(false);
  }, FLEET_TEST_TIMEOUT_MS);

  it('stops the rest and exits non-zero when a required child dies', async () => {
    fleet = await startFleet();
    const f = fleet;
    await waitUntil('the fleet banner', async () => f.output.some((l) => l.includes('voicefleet is up')), 120_000);
    const children = descendantsOf(f.child.pid!);

    const livekitPid = children.find((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('livekit-server');
      } catch {
        return false;
      }
    });
    expect(livekitPid).toBeDefined();
    process.kill(livekitPid!, 'SIGKILL');

    expect(await f.exit).toBe(1);
    expect(f.output.some((l) => l.includes('livekit exited unexpectedly'))).toBe(true);
    expect(children.filter(isAlive)).toEqual([]);
  }, FLEET_TEST_TIMEOUT_MS);
});
