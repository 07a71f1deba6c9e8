import { z } from 'zod';
import { WORKFLOW_NAMES } from '../agents/workflows.js';

/**
 * What a call is, known when its job starts: where it came from and which workflow runs it.
 * Job metadata is untrusted input (a dispatch rule, the API, a browser token); anything that does
 * not validate is reported and replaced by safe defaults, never thrown at the caller.
 */
export const jobMetadataSchema = z
  .object({
    /** Runs this workflow instead of the deployment's own (playground, tests, the dialer). */
    workflow: z.enum(WORKFLOW_NAMES).optional(),
    /** The deployment whose facts and settings apply; else the dialed number decides. */
    deployment: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/).optional(),
    /** Follow-up calls: the appointment the call is about and whom it is for. */
    appointment: z.object({ bookingId: z.string().regex(/^bk_[a-z0-9]{4,32}$/), slotId: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/) }).strict().optional(),
    contactName: z.string().min(1).max(60).regex(/^[\p{L} .'-]+$/u, 'letters, spaces and . \' - only').optional(),
    /** Opaque id from the system that placed or routed the call (CRM, dialer). */
    externalId: z.string().max(128).optional(),
    tenant: z.string().regex(/^[a-z0-9-]{1,63}$/).optional(),
    /** Set by the call supervisor: this job takes over a call whose agent died. */
    resumeCallId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional(),
  })
  .strict();

export type JobMetadata = z.infer<typeof jobMetadataSchema>;

export interface CallContext {
  callId: string;
  roomName: string;
  direction: 'inbound' | 'outbound' | 'web';
  /** A workflow the metadata asked for, overriding the deployment's. */
  workflow?: (typeof WORKFLOW_NAMES)[number];
  deployment?: string;
  appointment?: JobMetadata['appointment'];
  contactName?: string;
  tenant?: string;
  externalId?: string;
  /** The call this job takes over (its id is the call's id); the job loads its saved state. */
  resumed: boolean;
  /** The metadata as it came, for a resumed agent's dispatch. */
  rawMetadata: string;
  /** False when the metadata was unusable and defaults stand in for it. */
  metadataValid: boolean;
  metadataError?: string;
}

export type MetadataParseResult =
  | { ok: true; metadata: JobMetadata }
  | { ok: false; error: string };

export function parseJobMetadata(raw: string | undefined): MetadataParseResult {
  if (raw === undefined || raw.trim() === '') return { ok: true, metadata: {} };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, error: `metadata is not JSON (${raw.length} bytes)` };
  }
  const parsed = jobMetadataSchema.safeParse(json);
  if (parsed.success) return { ok: true, metadata: parsed.data };
  return {
    ok: false,
    error: parsed.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; '),
  };
}

export function buildCallContext(args: {
  jobId: string;
  roomName: string;
  rawMetadata: string | undefined;
}): CallContext {
  const parsed = parseJobMetadata(args.rawMetadata);
  const metadata = parsed.ok ? parsed.metadata : {};
  return {
    callId: metadata.resumeCallId ?? args.jobId,
    resumed: metadata.resumeCallId !== undefined,
    rawMetadata: args.rawMetadata ?? '',
    roomName: args.roomName,
    direction: 'web',
    workflow: metadata.workflow,
    deployment: metadata.deployment,
    appointment: metadata.appointment,
    contactName: metadata.contactName,
    tenant: metadata.tenant,
    externalId: metadata.externalId,
    metadataValid: parsed.ok,
    metadataError: parsed.ok ? undefined : parsed.error,
  };
}
