import { TokenVerifier } from 'livekit-server-sdk';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../worker/config.js';
import { parseWorkflowName, playgroundAccess, PlaygroundAccessError } from './playground-access.js';

const config = loadConfig({});

describe('playground access', () => {
  it('accepts only known workflows, and names the choices when refusing', () => {
    expect(parseWorkflowName('support_triage')).toBe('support_triage');
    expect(() => parseWorkflowName('bookings')).toThrow(/--workflow: unknown workflow "bookings" \(one of receptionist, booking,/);
  });

  it('refuses a bad room, identity or ttl, naming the flag', async () => {
    await expect(playgroundAccess(config, { room: 'a room' })).rejects.toThrow(/^--room:/);
    await expect(playgroundAccess(config, { identity: 'x'.repeat(129) })).rejects.toThrow(/^--identity:/);
    await expect(playgroundAccess(config, { ttl: 'soon' })).rejects.toBeInstanceOf(PlaygroundAccessError);
  });

  it('without a workflow, dispatches the agent with empty metadata (the deployment decides); ttl in seconds works', async () => {
    const access = await playgroundAccess(config, { ttl: '90' });
    const claims = await new TokenVerifier(config.LIVEKIT_API_KEY, config.LIVEKIT_API_SECRET).verify(access.token);
    expect(claims.roomConfig?.agents?.[0]).toMatchObject({ agentName: 'voicefleet', metadata: '{}' });
    expect(claims.exp! - claims.nbf!).toBe(90);
    expect(access.lines.slice(0, 2)).toEqual([`LIVEKIT_URL=${config.LIVEKIT_URL}`, `TOKEN=${access.token}`]);
    expect(access.lines.slice(2)).toEqual(access.usage);
    expect(access.usage.some((l) => l.startsWith('Agents Playground:'))).toBe(true);
  });
});
