import type { Booking } from './booking/calendar.js';
import { createBookingWorkflow } from './booking/workflow.js';
import { createFaqWorkflow } from './faq/workflow.js';
import { createFollowUpWorkflow } from './follow-up/workflow.js';
import { createLeadQualificationWorkflow } from './lead-qualification/workflow.js';
import { DEFAULT_BUSINESS_PROFILE, type BusinessProfile } from './receptionist/business-profile.js';
import { createReceptionistWorkflow } from './receptionist/workflow.js';
import { createSupportTriageWorkflow } from './support-triage/workflow.js';
import type { Workflow } from './workflow/types.js';

/** Every workflow a dialed number, a dispatch or a handoff can name. */
export const WORKFLOW_NAMES = ['receptionist', 'booking', 'faq', 'lead_qualification', 'support_triage', 'follow_up'] as const;
export type WorkflowName = (typeof WORKFLOW_NAMES)[number];

/** What a deployment configures for its workflows (see worker/deployments.ts). */
export interface WorkflowSettings {
  profile: BusinessProfile;
  /** Workflows a call may be handed to; a workflow never hands a call to itself. */
  handoffs?: readonly WorkflowName[];
  /** Lead qualification: a budget at or above this scores fully. */
  minBudget?: number;
  /** Follow-up calls: the appointment and the callee's name, from the dialer's job. */
  appointment?: Booking;
  contactName?: string;
}

export function createWorkflow(name: WorkflowName, settings: WorkflowSettings = { profile: DEFAULT_BUSINESS_PROFILE }): Workflow {
  const { profile } = settings;
  const options = { handoffs: (settings.handoffs ?? []).filter((to) => to !== name) };
  switch (name) {
    case 'receptionist':
      return createReceptionistWorkflow(profile, options);
    case 'booking':
      return createBookingWorkflow(profile, options);
    case 'faq':
      return createFaqWorkflow(profile, options);
    case 'lead_qualification':
      return createLeadQualificationWorkflow(profile, { ...options, minBudget: settings.minBudget });
    case 'support_triage':
      return createSupportTriageWorkflow(profile, options);
    case 'follow_up':
      return createFollowUpWorkflow(profile, { ...options, appointment: settings.appointment, contactName: settings.contactName });
  }
}

export type { HandoffNote, Turn, Workflow, WorkflowAction, WorkflowReply } from './workflow/types.js';
export type { CallOutcome, OutcomeFields } from './workflow/outcome.js';
export { DEFAULT_BUSINESS_PROFILE, knowledgeAnswer, type BusinessProfile } from './receptionist/business-profile.js';
