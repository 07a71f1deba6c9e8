/**
 * The contract every scripted workflow implements. A workflow is a pure function of the
 * conversation so far: given the same transcript it always says the same thing, which keeps it
 * testable in text mode and lets any worker pick a call up from its saved transcript.
 */

export interface Turn {
  role: 'user' | 'assistant' | 'tool';
  /** Spoken text, or a tool's output (JSON) for role 'tool'. */
  text: string;
  /** The tool that produced the output, for role 'tool'. */
  tool?: string;
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
}

export interface Workflow {
  readonly name: string;
  /** The first thing the caller hears. */
  greeting(): string;
  /** What a caller with unusable call metadata hears instead of a workflow greeting. */
  genericGreeting(): string;
  respond(history: readonly Turn[], userText: string): WorkflowReply;
  /** What to say once a requested tool has answered (history ends with its output). */
  afterTool?(history: readonly Turn[]): WorkflowReply | undefined;
  /** What the agent says when the caller goes quiet, rung by rung, and before hanging up. */
  silencePrompts(): { reprompts: readonly string[]; goodbye: string };
}
