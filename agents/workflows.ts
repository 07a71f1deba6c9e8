import { DEFAULT_BUSINESS_PROFILE, type BusinessProfile } from './receptionist/business-profile.js';
import { createReceptionistWorkflow } from './receptionist/workflow.js';
import type { Workflow } from './workflow/types.js';

/** Every workflow a dialed number or a dispatch can name. */
export const WORKFLOW_NAMES = ['receptionist'] as const;
export type WorkflowName = (typeof WORKFLOW_NAMES)[number];

export function createWorkflow(
  name: WorkflowName,
  profile: BusinessProfile = DEFAULT_BUSINESS_PROFILE,
): Workflow {
  switch (name) {
    case 'receptionist':
      return createReceptionistWorkflow(profile);
  }
}

export type { Workflow, WorkflowReply, Turn, WorkflowAction } from './workflow/types.js';
export { DEFAULT_BUSINESS_PROFILE, type BusinessProfile } from './receptionist/business-profile.js';
