import { readFileSync } from 'node:fs';
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
