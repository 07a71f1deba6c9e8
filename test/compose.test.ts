import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema } from '../worker/config.js';

/**
 * docker-compose.yml cannot be run here (no Docker engine), so it is held to the rest of the
 * configuration instead: Debian's docker-compose validates it, and these checks keep its images,
 * ports, files and keys the ones livekit.yaml, infra/ and .env.example use.
 */
const root = new URL('..', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(root, path), 'utf8');
type Service = {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  network_mode?: string;
  env_file?: string;
  healthcheck?: unknown;
  build?: { dockerfile: string };
};
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const livekit = parse(read('livekit.yaml')) as { port: number; redis: { address: string }; webhook: { urls: string[] } };
const sip = parse(read('infra/sip/config.yaml')) as { ws_url: string; redis: { address: string }; api_key?: string; api_secret?: string };
const envExample = Object.fromEntries([...read('.env.example').matchAll(/^([A-Z][A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
const versions = Object.fromEntries([...read('infra/versions.env').matchAll(/^([A-Z_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
const portOf = (address: string) => Number(/:(\d+)(\/|$)/.exec(address)?.[1]);
const hostOf = (address: string) => address.replace(/^\w+:\/\//, '').split(':')[0];

/** The file mounted at the path a service's --config flag names. */
function mountedConfig(service: Service): string | undefined {
  const flag = service.command!.indexOf('--config');
  const target = service.command![flag + 1];
  return service.volumes?.map((v) => v.split(':')).find(([, at]) => at === target)?.[0];
}

describe('docker-compose.yml', () => {
  it('is valid for docker-compose, with .env made from .env.example', () => {
    const dir = mkdtempSync(join(tmpdir(), 'voicefleet-compose-'));
    try {
      for (const file of ['docker-compose.yml', 'livekit.yaml', 'infra', '.env.example']) cpSync(join(root, file), join(dir, file), { recursive: true });
      cpSync(join(root, '.env.example'), join(dir, '.env'));
      const result = spawnSync('docker-compose', ['config', '--quiet'], { cwd: dir, encoding: 'utf8' });
      expect(result.error, 'docker-compose missing: scripts/setup installs the Debian package').toBeUndefined();
      expect(result.stderr + result.stdout).toBe('');
      expect(result.status).toBe(0);
      const scaled = spawnSync('docker-compose', ['config', '--services'], { cwd: dir, encoding: 'utf8' });
      expect(scaled.stdout.split('\n').filter(Boolean).sort()).toEqual(['crm-sync', 'dialer', 'livekit', 'redis', 'sip', 'worker']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('starts the dialer only on request: it needs an outbound trunk', () => {
    expect((services.dialer as { profiles?: string[] }).profiles).toEqual(['outbound']);
  });

  it('runs the pinned server versions from infra/versions.env', () => {
    expect(services.livekit!.image).toBe(`livekit/livekit-server:${versions.LIVEKIT_SERVER_VERSION}`);
    expect(services.sip!.image).toBe(`livekit/sip:${versions.LIVEKIT_SIP_VERSION}`);
  });

  it('mounts livekit.yaml and infra/sip/config.yaml where the servers read them', () => {
    expect(mountedConfig(services.livekit!)).toBe('./livekit.yaml');
    expect(mountedConfig(services.sip!)).toBe('./infra/sip/config.yaml');
  });

  it('puts every service on the host network, so the loopback addresses in the configs hold', () => {
    for (const [name, service] of Object.entries(services)) expect(service.network_mode, name).toBe('host');
    expect(hostOf(livekit.redis.address)).toBe('127.0.0.1');
    expect(hostOf(sip.ws_url)).toBe('127.0.0.1');
    expect(hostOf(sip.redis.address)).toBe('127.0.0.1');
  });

  it('uses one Redis: the port Redis listens on is the one livekit-server, livekit-sip and the workers use', () => {
    const command = services.redis!.command!;
    const redisPort = Number(command[command.indexOf('--port') + 1]);
    expect(portOf(livekit.redis.address)).toBe(redisPort);
    expect(portOf(sip.redis.address)).toBe(redisPort);
    expect(portOf(envExample.REDIS_URL!)).toBe(redisPort);
  });

  it('keeps Redis durable and refuses eviction, as the queues require', () => {
    const command = services.redis!.command!.join(' ');
    expect(command).toContain('--appendonly yes');
    expect(command).toContain('--maxmemory-policy noeviction');
    expect(services.redis!.volumes!.some((v) => v.endsWith(':/data'))).toBe(true);
    expect(services.redis!.healthcheck).toBeDefined();
  });

  it('connects livekit-sip and the workers to the livekit-server port, and its webhooks to crm-sync', () => {
    expect(portOf(sip.ws_url)).toBe(livekit.port);
    expect(portOf(envExample.LIVEKIT_URL!)).toBe(livekit.port);
    expect(livekit.webhook.urls.map(portOf)).toEqual([Number(envExample.VOICEFLEET_WEBHOOK_PORT)]);
    expect(services.worker!.environment!.HEALTHCHECK_PORT).toBe(String(livekit.port));
  });

  it('keeps secrets out of the config files: keys come from the environment', () => {
    expect(sip.api_key).toBeUndefined();
    expect(sip.api_secret).toBeUndefined();
    expect(read('livekit.yaml')).not.toMatch(/^keys:/m);
    expect(services.livekit!.environment!.LIVEKIT_KEYS).toBe('${LIVEKIT_API_KEY}: ${LIVEKIT_API_SECRET}');
    expect(services.sip!.environment).toMatchObject({ LIVEKIT_API_KEY: '${LIVEKIT_API_KEY}', LIVEKIT_API_SECRET: '${LIVEKIT_API_SECRET}' });
  });

  it('refers only to variables .env.example defines and config keys the processes read', () => {
    const referenced = [...read('docker-compose.yml').matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]!);
    for (const name of referenced) expect(envExample, name).toHaveProperty(name);
    const keys = new Set([...Object.keys(configSchema.shape), 'HEALTHCHECK_PORT']);
    for (const name of ['worker', 'crm-sync', 'dialer']) {
      for (const key of Object.keys(services[name]!.environment ?? {})) expect(keys.has(key), `${name}: ${key}`).toBe(true);
      expect(services[name]!.env_file).toBe('.env');
    }
  });

  it('builds the worker image from files that exist, and runs entry points that exist', () => {
    const dockerfile = read(services.worker!.build!.dockerfile);
    for (const [, source] of dockerfile.matchAll(/^COPY (?!--from)(\S+)/gm)) expect(existsSync(join(root, source!)), source).toBe(true);
    for (const name of ['worker', 'crm-sync', 'dialer']) {
      const entry = services[name]!.command!.find((part) => part.endsWith('.ts'))!;
      expect(existsSync(join(root, entry)), entry).toBe(true);
    }
  });
});
