import type { Logger } from 'pino';
import type { CallAgent } from '../agents/call-agent.js';
import { callOutcomeSchema, mergeOutcomeFields, type CallOutcome } from '../agents/workflow/outcome.js';
import type { WorkflowReply } from '../agents/workflows.js';
import { turnsOf } from './providers/workflow-llm.js';
import type { TransferResult } from './telephony/human-transfer.js';

/**
 * Collects what a call achieved across its agents: each workflow reads its own part of the
 * transcript (`Workflow.outcome`), and call control (transfers, silent hang-ups) adds the rest.
 * `finish` produces the CallOutcome that post-call CRM sync carries.
 */
export class CallOutcomeRecorder {
  readonly #log: Logger;
  readonly #agents: CallAgent[] = [];
  readonly #intents: string[] = [];
  #transfer: TransferResult | undefined;
  #silentHangUp = false;
  #outcome: CallOutcome | undefined;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** An agent took the call (the first one, or one handed the call). */
  entered(agent: CallAgent, from?: string, reason?: string): void {
    if (from) this.#log.info({ event: 'handoff', from, to: agent.workflowName, reason }, 'call handed to another workflow');
    this.#agents.push(agent);
  }

  replied(workflow: string, reply: WorkflowReply): void {
    this.#intents.push(reply.intent);
    this.#log.info({ event: 'workflow_reply', workflow, intent: reply.intent, action: reply.action, handoff: reply.handoff?.to }, 'workflow replied');
  }

  transferred(result: TransferResult): void {
    this.#transfer = result;
  }

  silenceHangUp(): void {
    this.#silentHangUp = true;
  }

  get outcome(): CallOutcome | undefined {
    return this.#outcome;
  }

  /** Called once, when the session closes. */
  finish(closeReason: string): CallOutcome {
    if (this.#outcome) return this.#outcome;
    const parts = this.#agents.map((agent) => agent.workflow.outcome(turnsOf(agent.chatCtx)));
    const { resolved, ...fields } = mergeOutcomeFields(parts);
    let disposition: CallOutcome['disposition'];
    if (this.#transfer?.transferred) disposition = 'transferred';
    else if (this.#transfer) disposition = 'callback_requested';
    else if (resolved) disposition = 'resolved';
    else if (this.#silentHangUp) disposition = 'silent_hang_up';
    else if (closeReason === 'participant_disconnected') disposition = 'caller_hung_up';
    else disposition = 'unresolved';
    const outcome = callOutcomeSchema.parse({
      workflows: this.#agents.map((a) => a.workflowName),
      disposition,
      intents: this.#intents,
      ...fields,
      ...(this.#transfer ? { escalation: { reason: this.#transfer.transferred ? 'transferred' : this.#transfer.reason } } : {}),
    });
    this.#outcome = outcome;
    this.#log.info({ event: 'call_outcome', outcome: withoutCallerWords(outcome) }, 'call outcome recorded');
    this.#log.debug({ event: 'call_outcome_detail', pii: { outcome } }, 'call outcome with caller words');
    return outcome;
  }
}

/** Caller's own words (their need, their name) stay out of info-level logs. */
function withoutCallerWords(outcome: CallOutcome): CallOutcome {
  if (!outcome.lead) return outcome;
  const { need, contactName, ...lead } = outcome.lead;
  return { ...outcome, lead: { ...lead, ...(need ? { need: '[said]' } : {}), ...(contactName ? { contactName: '[said]' } : {}) } };
}
