import type { Queue } from 'bullmq';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';

const STATES = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'] as const;

/**
 * The queue worker's /metrics: jobs per queue and state (crm-sync, dead letters, outbound calls),
 * read from Redis when Prometheus scrapes, so the figures are the queues' own.
 */
export function createQueueMetrics(queues: Readonly<Record<string, Queue>>): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'voicefleet_crm_sync_' });
  new Gauge({
    name: 'voicefleet_queue_jobs',
    help: 'Jobs in each queue by state (crm-sync: call records on their way; crm-sync-dead: refused records; calls: outbound calls).',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      for (const [name, queue] of Object.entries(queues)) {
        const counts = await queue.getJobCounts(...STATES);
        for (const state of STATES) this.set({ queue: name, state }, counts[state] ?? 0);
      }
    },
  });
  return registry;
}
