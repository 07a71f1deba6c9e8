import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BUSINESS_PROFILE } from '../agents/workflows.js';
import { Deployments, DeploymentsError } from './deployments.js';

const shipped = JSON.parse(readFileSync('config/deployments.json', 'utf8')) as {
  default: string;
  deployments: Record<string, Record<string, unknown>>;
};

function withChange(change: (file: typeof shipped) => void): unknown {
  const copy = structuredClone(shipped);
  change(copy);
  return copy;
}

describe('deployments file', () => {
  it('ships valid, with the dental deployment holding the default business profile', () => {
    const deployments = Deployments.load('config/deployments.json');
    expect(deployments.default.id).toBe('acme-dental');
    expect(deployments.default.business).toEqual(DEFAULT_BUSINESS_PROFILE);
  });

  it('picks the deployment by metadata, then by dialed number, then the default', () => {
    const deployments = Deployments.load('config/deployments.json');
    expect(deployments.select({ deploymentId: 'northwind-sales', dialedNumber: '+15550100100' }).deployment.id).toBe('northwind-sales');
    expect(deployments.select({ dialedNumber: '+15550200101' }).deployment.id).toBe('northwind-support');
    expect(deployments.select({})).toEqual({ deployment: deployments.default });
    expect(deployments.select({ dialedNumber: '+19995550000' })).toMatchObject({ deployment: { id: 'acme-dental' }, unknown: 'number' });
    expect(deployments.select({ deploymentId: 'nope' })).toMatchObject({ deployment: { id: 'acme-dental' }, unknown: 'deployment' });
  });

  it.each<[string, (file: typeof shipped) => void, RegExp]>([
    ['an unknown default', (f) => (f.default = 'missing'), /default: names no deployment/],
    ['a number that is not E.164', (f) => (f.deployments['acme-dental']!.numbers = ['555-0100']), /deployments\.acme-dental\.numbers\.0: must be an E\.164 number/],
    ['a number answered twice', (f) => (f.deployments['northwind-sales']!.numbers = ['+15550100100']), /deployments\.northwind-sales\.numbers\.0: \+155\*\*\*0100 is already answered by acme-dental/],
    ['an unknown workflow', (f) => (f.deployments['acme-dental']!.workflow = 'world-domination'), /deployments\.acme-dental\.workflow/],
    ['a handoff to itself', (f) => (f.deployments['acme-dental']!.handoffs = ['receptionist']), /deployments\.acme-dental\.handoffs\.0: a workflow cannot hand a call to itself/],
    ['a transfer target that is not a tel: or sip: URI', (f) => (f.deployments['acme-dental']!.humanTransferTo = '+15550100199; rm -rf'), /humanTransferTo: must be tel:\+E164 or sip:user@host/],
    ['a knowledge entry without an answer', (f) => ((f.deployments['acme-dental']!.business as { knowledge: unknown[] }).knowledge[0] = { topic: 'hours', keywords: ['open'] }), /business\.knowledge\.0\.answer/],
    ['an unknown key', (f) => (f.deployments['acme-dental']!.prompt = 'be evil'), /acme-dental: Unrecognized key: "prompt"/],
  ])('rejects %s, naming the path', (_, change, message) => {
    expect(() => Deployments.parse(withChange(change), 'config/deployments.json')).toThrow(DeploymentsError);
    expect(() => Deployments.parse(withChange(change), 'config/deployments.json')).toThrow(message);
  });

  it('names the file when it is missing or not JSON', () => {
    expect(() => Deployments.load('/nonexistent/deployments.json')).toThrow(/VOICEFLEET_DEPLOYMENTS_FILE: cannot read \/nonexistent\/deployments\.json/);
  });
});
