import type { AgentServer, JobRequest } from '@livekit/agents';
import { describe, expect, it } from 'vitest';
import { WorkerCapacity } from './capacity.js';

function request(id: string) {
  const answers: string[] = [];
  const req = {
    id,
    accept: async () => void answers.push('accept'),
    reject: async () => void answers.push('reject'),
  } as unknown as JobRequest;
  return { req, answers };
}

const serverWith = (jobIds: string[]) => ({ activeJobs: jobIds.map((id) => ({ job: { id } })) }) as unknown as AgentServer;

describe('WorkerCapacity', () => {
  it('accepts exactly as many jobs as it has slots, counting those still launching', async () => {
    const capacity = new WorkerCapacity({ talking: 1, holding: 2 });
    await capacity.load(serverWith([]));
    const results = [];
    for (const id of ['a', 'b', 'c', 'd']) {
      const r = request(id);
      await capacity.admit(r.req);
      results.push(r.answers[0]);
    }
    // Three slots: the burst of four gets three accepts, although no job is running yet.
    expect(results).toEqual(['accept', 'accept', 'accept', 'reject']);
  });

  it('frees a slot when a running job ends', async () => {
    const capacity = new WorkerCapacity({ talking: 1, holding: 0 });
    await capacity.load(serverWith([]));
    const first = request('a');
    await capacity.admit(first.req);
    // The job started, then ended: the next call may come in.
    expect(await capacity.load(serverWith(['a']))).toBe(1);
    const refused = request('b');
    await capacity.admit(refused.req);
    expect(refused.answers).toEqual(['reject']);
    expect(await capacity.load(serverWith([]))).toBe(0);
    const next = request('c');
    await capacity.admit(next.req);
    expect(next.answers).toEqual(['accept']);
  });

  it('counts no job whose call has ended, while its process shuts down', async () => {
    const ended = new Set<string>();
    const capacity = new WorkerCapacity({ talking: 1, holding: 0 }, (id) => ended.has(id));
    expect(await capacity.load(serverWith(['a']))).toBe(1);
    const refused = request('b');
    await capacity.admit(refused.req);
    expect(refused.answers).toEqual(['reject']);
    // The caller hung up; the job is still among the server's active jobs while it shuts down.
    ended.add('a');
    expect(await capacity.load(serverWith(['a']))).toBe(0);
    const next = request('c');
    await capacity.admit(next.req);
    expect(next.answers).toEqual(['accept']);
  });

  it('reports load as the share of all job slots, held calls included', async () => {
    const capacity = new WorkerCapacity({ talking: 2, holding: 2 });
    expect(await capacity.load(serverWith(['a']))).toBe(0.25);
    expect(await capacity.load(serverWith(['a', 'b', 'c', 'd']))).toBe(1);
  });
});
