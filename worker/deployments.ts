import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { businessProfileSchema } from '../agents/receptionist/business-profile.js';
import type { Booking } from '../agents/booking/calendar.js';
import { WORKFLOW_NAMES, type WorkflowName, type WorkflowSettings } from '../agents/workflows.js';
import { ianaTimeZone } from './dialer/dial-request.js';
import { maskPhoneNumber } from './log.js';

/**
 * Deployments: one per business (or per line of a business). Each names the workflow that
 * answers its dialed numbers, the workflows a call may be handed to, the facts its agents may
 * state and the human line transfers go to. One typed file, read once at start-up; conversation
 * behaviour is changed there, not in code.
 */
const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number such as +15550100');

export const deploymentSchema = z
  .object({
    /** Dialed numbers (the trunk's numbers) this deployment answers. */
    numbers: z.array(e164).default([]),
    workflow: z.enum(WORKFLOW_NAMES),
    handoffs: z.array(z.enum(WORKFLOW_NAMES)).default([]),
    business: businessProfileSchema,
    /** Where "a person" is: a tel: or sip: URI. Without it, escalations become callback requests. */
    humanTransferTo: z
      .string()
      .regex(/^(tel:\+[1-9]\d{6,14}|sip:[^\s@]+@[^\s]+)$/, 'must be tel:+E164 or sip:user@host')
      .optional(),
    /** Lead qualification: a budget at or above this scores fully. */
    minBudget: z.number().int().positive().optional(),
    /** The business's own time zone: its opening hours, and when a callback may be placed. */
    timeZone: ianaTimeZone.default('UTC'),
    /**
     * Callers who find every agent busy wait on hold, answered in arrival order. After `maxWaitSeconds`
     * they get `then`: a callback job for their number, a voicemail box, or the human line.
     */
    overflow: z
      .object({
        maxWaitSeconds: z.number().int().min(5).max(3600).default(120),
        then: z.enum(['callback', 'voicemail', 'human']).default('callback'),
      })
      .strict()
      .default({ maxWaitSeconds: 120, then: 'callback' }),
    /** This deployment's own VOICEFLEET_RECORDING (on/off) and consent announcement ('' for none). */
    recording: z
      .object({ enabled: z.boolean().optional(), consent: z.string().trim().max(500).optional() })
      .strict()
      .optional(),
  })
  .strict();


export const deploymentsFileSchema = z
  .object({
    /** The deployment for calls whose number or metadata names none. */
    default: z.string(),
    deployments: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'ids are lowercase letters, digits and dashes'), deploymentSchema),
  })
  .strict()
  .superRefine((file, ctx) => {
    if (!(file.default in file.deployments)) {
      ctx.addIssue({ code: 'custom', path: ['default'], message: `names no deployment (have: ${Object.keys(file.deployments).join(', ')})` });
    }
    const owner = new Map<string, string>();
    for (const [id, deployment] of Object.entries(file.deployments)) {
      deployment.numbers.forEach((number, i) => {
        const other = owner.get(number);
        if (other) ctx.addIssue({ code: 'custom', path: ['deployments', id, 'numbers', i], message: `${maskPhoneNumber(number)} is already answered by ${other}` });
        owner.set(number, id);
      });
      deployment.handoffs.forEach((to, i) => {
        if (to === deployment.workflow) ctx.addIssue({ code: 'custom', path: ['deployments', id, 'handoffs', i], message: 'a workflow cannot hand a call to itself' });
      });
    }
  });

export type Deployment = z.infer<typeof deploymentSchema> & { id: string };
export type DeploymentsFile = z.infer<typeof deploymentsFileSchema>;

export class DeploymentsError extends Error {
  override name = 'DeploymentsError';
}

export class Deployments {
  readonly #file: DeploymentsFile;

  private constructor(file: DeploymentsFile) {
    this.#file = file;
  }

  /** Parses and validates; every problem is reported with the path of the bad value. */
  static parse(json: unknown, source = 'deployments'): Deployments {
    const parsed = deploymentsFileSchema.safeParse(json);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
      throw new DeploymentsError(`${source} is invalid:\n${problems.join('\n')}`);
    }
    return new Deployments(parsed.data);
  }

  static load(path: string): Deployments {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new DeploymentsError(`VOICEFLEET_DEPLOYMENTS_FILE: cannot read ${path}: ${(error as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new DeploymentsError(`${path} is not JSON: ${(error as Error).message}`);
    }
    return Deployments.parse(json, path);
  }

  get(id: string): Deployment | undefined {
    const deployment = this.#file.deployments[id];
    return deployment && { id, ...deployment };
  }

  get default(): Deployment {
    return this.get(this.#file.default)!;
  }

  /**
   * The deployment for a call: the one its metadata names, else the one answering the dialed
   * number, else the default. `unknown` says why the default stood in, for the log.
   */
  select(args: { deploymentId?: string; dialedNumber?: string }): { deployment: Deployment; unknown?: 'deployment' | 'number' } {
    if (args.deploymentId) {
      const named = this.get(args.deploymentId);
      return named ? { deployment: named } : { deployment: this.default, unknown: 'deployment' };
    }
    if (args.dialedNumber) {
      const entry = Object.entries(this.#file.deployments).find(([, d]) => d.numbers.includes(args.dialedNumber!));
      return entry ? { deployment: { id: entry[0], ...entry[1] } } : { deployment: this.default, unknown: 'number' };
    }
    return { deployment: this.default };
  }

  /** Workflows any deployment may run, for building the local recognizer's vocabulary. */
  workflowsInUse(): WorkflowName[] {
    const names = new Set<WorkflowName>();
    for (const d of Object.values(this.#file.deployments)) {
      names.add(d.workflow);
      d.handoffs.forEach((h) => names.add(h));
    }
    return [...names];
  }
}

/** What the workflows of one call are built with: the deployment's settings and the call's own facts. */
export function workflowSettingsFor(deployment: Deployment, call: { appointment?: Booking; contactName?: string }): WorkflowSettings {
  return {
    profile: deployment.business,
    handoffs: deployment.handoffs,
    minBudget: deployment.minBudget,
    appointment: call.appointment,
    contactName: call.contactName,
  };
}
