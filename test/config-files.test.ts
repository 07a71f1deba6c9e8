import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIVEKIT_PORTS, livekitConfigYaml } from '../scripts/fleet/livekit-config.js';
import { configSchema, loadConfig } from '../worker/config.js';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

/** The checked-in files a user edits must say what the code does. */
describe('configuration files', () => {
  it('livekit.yaml is what the fleet runs with on default ports', () => {
    expect(read('livekit.yaml')).toBe(livekitConfigYaml(DEFAULT_LIVEKIT_PORTS));
  });

  it('livekit.yaml carries no API keys', () => {
    expect(read('livekit.yaml')).not.toMatch(/^keys:/m);
  });

  const keys = Object.keys(configSchema.shape);

  it('.env.example lists every config key, and nothing the config does not read', () => {
    const listed = [...read('.env.example').matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]);
    expect([...new Set(listed)].sort()).toEqual([...keys].sort());
  });

  it('.env.example values are valid config', () => {
    const env = Object.fromEntries(
      [...read('.env.example').matchAll(/^([A-Z][A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1], m[2]]),
    );
    expect(() => loadConfig(env)).not.toThrow();
  });

  it('the README table documents every config key', () => {
    const readme = read('README.md');
    for (const key of keys) expect(readme, key).toContain(`| \`${key}\` |`);
  });
});

/** Every process stops at start-up on a bad value, with exit code 2 and the key named. */
describe('start-up refusals', () => {
  const run = (script: string, env: Record<string, string>) =>
    spawnSync(process.execPath, ['--import', 'tsx', script, ...(script === 'worker/main.ts' ? ['start'] : [])], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });

  it('the worker names a bad key and a bad deployments file', () => {
    const badKey = run('worker/main.ts', { VOICEFLEET_MAX_CALLS_PER_WORKER: 'lots' });
    expect(badKey.status).toBe(2);
    expect(badKey.stderr).toMatch(/VOICEFLEET_MAX_CALLS_PER_WORKER:/);
    const dir = mkdtempSync(join(tmpdir(), 'voicefleet-deploy-'));
    try {
      writeFileSync(join(dir, 'd.json'), JSON.stringify({ default: 'x', deployments: {} }));
      const badFile = run('worker/main.ts', { VOICEFLEET_DEPLOYMENTS_FILE: join(dir, 'd.json') });
      expect(badFile.status).toBe(2);
      expect(badFile.stderr).toMatch(/default: names no deployment/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('crm-sync names a CRM setting its adapter needs', () => {
    const missing = run('worker/crm-sync-main.ts', { VOICEFLEET_CRM: 'webhook' });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/VOICEFLEET_CRM_WEBHOOK_URL: required when VOICEFLEET_CRM=webhook/);
    expect(missing.stderr).toMatch(/VOICEFLEET_CRM_WEBHOOK_SECRET: required when VOICEFLEET_CRM=webhook/);
  });
});
