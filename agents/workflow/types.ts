/**
 * The contract every scripted workflow implements. A workflow is a pure function of the
 * conversation so far: given the same transcript it always says the same thing, which keeps it
 * testable in text mode and lets any worker pick a call up from its saved transcript.
 */

import type { OutcomeFields } from './outcome.js';

export interface Turn {
  /**
   * Spoken turns, a tool's output, or the note an earlier workflow handed over ('handoff', whose
   * text is a HandoffNote as JSON) so that a workflow starts from what is already known.
   */
  role: 'user' | 'assistant' | 'tool' | 'handoff';
  /** Spoken text, a tool's output (JSON) for role 'tool', a HandoffNote (JSON) for 'handoff'. */
  text: string;
  /** The tool that produced the output, for role 'tool'. */
  tool?: string;
}

/** What one workflow passes to the next: a summary and the fields collected, not the transcript. */
export interface HandoffNote {
  from: string;
  /** Why the call moved on, in a few words ("caller wants to reschedule"). */
  reason: string;
  /** Collected fields the next workflow may use (booking id, name, account). */
  fields: Record<string, string>;
}

/** A data tool the workflow asks the worker to run (calendar, tickets), with its arguments. */
export interface ToolRequest {
  name: string;
  args: Record<string, unknown>;
}

/** Call-control steps a reply may ask for; the worker maps each to a tool when one is installed. */
export type WorkflowAction = 'end_call' | 'transfer_to_human';

export interface WorkflowReply {
  /** What the agent says, already phrased for speech (no markdown, short sentences). */
  text: string;
  /** The intent the reply answers; logged per turn and used by tests. */
  intent: string;
  action?: WorkflowAction;
  /** A tool to run next; its output comes back to `afterTool`. */
  toolRequest?: ToolRequest;
  /** Hand the call to another workflow, which answers the caller's last words itself. */
  handoff?: { to: string; reason: string; fields?: Record<string, string> };
}

export interface Workflow {
  readonly name: string;
  /** Data tools this workflow may call; nothing else is installed on its agent. */
  readonly tools: readonly string[];
  /** Workflows this one may hand a call to (per deployment). */
  readonly handoffs: readonly string[];
  /** The first thing the caller hears. */
  greeting(): string;
  /** What a caller with unusable call metadata hears instead of a workflow greeting. */
  genericGreeting(): string;
  respond(history: readonly Turn[], userText: string): WorkflowReply;
  /** What to say once a requested tool has answered (history ends with its output). */
  afterTool?(history: readonly Turn[]): WorkflowReply | undefined;
  /** What the agent says when the caller goes quiet, rung by rung, and before hanging up. */
  silencePrompts(): { reprompts: readonly string[]; goodbye: string };
  /** What this workflow has established so far, read from its own part of the transcript. */
  outcome(history: readonly Turn[]): OutcomeFields;
}
