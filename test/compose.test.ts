import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema } from '../worker/config.js';
import { createQueueMetrics } from '../worker/metrics/queue-metrics.js';
import { createWorkerMetrics, TURN_STAGES } from '../worker/metrics/worker-metrics.js';

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
      expect(scaled.stdout.split('\n').filter(Boolean).sort()).toEqual(['crm-sync', 'dialer', 'grafana', 'livekit', 'prometheus', 'redis', 'sip', 'worker']);
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
    expect(services.prometheus!.image).toBe(`prom/prometheus:${versions.PROMETHEUS_VERSION}`);
    expect(services.grafana!.image).toBe(`grafana/grafana:${versions.GRAFANA_VERSION}`);
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
    expect(dockerfile).toMatch(/^RUN node --import tsx scripts\/build\.ts$/m);
    for (const name of ['worker', 'crm-sync', 'dialer']) {
      // The image runs the compiled tree (scripts/build.ts); its source must exist.
      const entry = services[name]!.command!.find((part) => part.startsWith('dist/'))!;
      expect(existsSync(join(root, entry.replace(/^dist\//, '').replace(/\.js$/, '.ts'))), entry).toBe(true);
    }
  });
});

describe('monitoring (infra/monitoring/)', () => {
  type ScrapeConfig = { job_name: string; static_configs?: { targets: string[] }[]; file_sd_configs?: { files: string[] }[] };
  const prometheus = parse(read('infra/monitoring/prometheus.yml')) as { scrape_configs: ScrapeConfig[] };
  const job = (name: string) => prometheus.scrape_configs.find((c) => c.job_name === name)!;
  const datasources = parse(read('infra/monitoring/grafana/provisioning/datasources/prometheus.yml')) as { datasources: { uid: string; url: string }[] };
  const providers = parse(read('infra/monitoring/grafana/provisioning/dashboards/voicefleet.yml')) as { providers: { options: { path: string } }[] };
  const dashboard = JSON.parse(read('infra/monitoring/grafana/dashboards/voicefleet.json')) as {
    uid: string;
    panels: { title: string; datasource: { uid: string }; targets: { expr: string; datasource: { uid: string } }[] }[];
  };
  /** The host directory (or named volume) a service mounts at `target`, and the path inside it. */
  const mountAt = (service: Service, path: string) => {
    for (const volume of service.volumes ?? []) {
      const [source, target] = volume.split(':');
      if (path === target || path.startsWith(`${target}/`)) return { source: source!, rest: path.slice(target!.length) };
    }
    return undefined;
  };
  const listenPort = (service: Service) => Number(/--web\.listen-address=[^:]+:(\d+)/.exec(service.command!.join(' '))?.[1]);

  it('has healthchecks on the host network, and Grafana waits for a healthy Prometheus', () => {
    for (const name of ['prometheus', 'grafana']) {
      expect(services[name]!.network_mode, name).toBe('host');
      expect(services[name]!.healthcheck, name).toBeDefined();
    }
    expect((services.grafana as { depends_on?: Record<string, { condition: string }> }).depends_on?.prometheus?.condition).toBe('service_healthy');
  });

  it('mounts the scrape config, the provisioning and the dashboards where Prometheus and Grafana read them', () => {
    const flag = services.prometheus!.command!.find((c) => c.startsWith('--config.file='))!.split('=')[1]!;
    expect(mountAt(services.prometheus!, flag)?.source).toBe('./infra/monitoring/prometheus.yml');
    expect(mountAt(services.grafana!, '/etc/grafana/provisioning')?.source).toBe('./infra/monitoring/grafana/provisioning');
    const dashboards = mountAt(services.grafana!, providers.providers[0]!.options.path)!;
    expect(dashboards.source).toBe('./infra/monitoring/grafana/dashboards');
  });

  it('discovers every scaled worker from the target files they write on the volume they share with Prometheus', () => {
    const dir = services.worker!.environment!.VOICEFLEET_METRICS_TARGETS_DIR!;
    expect(services.worker!.environment!.VOICEFLEET_METRICS_PORT).toBe('0');
    const written = mountAt(services.worker!, dir)!;
    const [pattern] = job('voicefleet-worker').file_sd_configs![0]!.files;
    const read = mountAt(services.prometheus!, pattern!.replace(/\/[^/]*$/, ''))!;
    expect(read.source).toBe(written.source);
    expect(read.rest).toBe(written.rest);
    expect(pattern).toMatch(/\/\*\.json$/);
  });

  it("scrapes crm-sync's queue metrics on its webhook port, and Grafana reads the Prometheus compose runs", () => {
    const [target] = job('voicefleet-crm-sync').static_configs![0]!.targets;
    expect(portOf(target!)).toBe(Number(envExample.VOICEFLEET_WEBHOOK_PORT));
    expect(hostOf(target!)).toBe(envExample.VOICEFLEET_WEBHOOK_HOST);
    expect(portOf(datasources.datasources[0]!.url)).toBe(listenPort(services.prometheus!));
  });

  it('charts only metrics the code registers, through the provisioned datasource', () => {
    const registered = new Map<string, string>();
    for (const registry of [createWorkerMetrics().registry, createQueueMetrics({})]) {
      for (const metric of registry.getMetricsAsArray()) registered.set(metric.name, String((metric as { type?: unknown }).type ?? ''));
    }
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(10);
    const queried = new Set(exprs.flatMap((e) => [...e.matchAll(/\bvoicefleet_[a-z0-9_]+/g)].map((m) => m[0])));
    for (const name of queried) {
      const base = name.replace(/_(bucket|sum|count)$/, '');
      const known = registered.has(name) || (registered.get(base) === 'histogram' && base !== name);
      expect(known, name).toBe(true);
    }
    for (const needed of ['voicefleet_turn_stage_seconds_bucket', 'voicefleet_active_calls', 'voicefleet_calls_total', 'voicefleet_provider_fallbacks_total', 'voicefleet_errors_total', 'voicefleet_dead_air_filled_total', 'voicefleet_hold_wait_seconds_bucket', 'voicefleet_queue_jobs']) {
      expect(queried.has(needed), needed).toBe(true);
    }
    // Stage labels charted are stages the workers report.
    const stages = new Set(exprs.flatMap((e) => [...e.matchAll(/stage!?="([a-z_]+)"/g)].map((m) => m[1]!)));
    for (const stage of stages) expect(TURN_STAGES).toContain(stage);
    const uid = datasources.datasources[0]!.uid;
    for (const panel of dashboard.panels) {
      expect(panel.datasource.uid, panel.title).toBe(uid);
      for (const target of panel.targets) expect(target.datasource.uid, panel.title).toBe(uid);
    }
  });
});
