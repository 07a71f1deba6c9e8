import { beta, llm, voice } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';
import { z } from 'zod';
import { workflowInstructions } from './prompts.js';
import { HANDOFF_TO_WORKFLOW } from './workflow/phrases.js';
import type { BusinessProfile, HandoffNote, Workflow, WorkflowName } from './workflows.js';

/** The prefix that marks the handed-over note in an agent's chat context (read by turnsOf). */
export const HANDOFF_NOTE_PREFIX = 'Handoff note (JSON): ';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyTool = llm.FunctionTool<any, any, any>;

/**
 * Everything a CallAgent needs, bound to one call by the worker. `next` builds the agent a call
 * is handed to, so handoffs reuse the same assembly as the first agent.
 */
export interface CallAgentOptions {
  name: WorkflowName;
  workflow: Workflow;
  profile: BusinessProfile;
  /** The session's brain for this workflow: the engine, or a cloud model backed by it. */
  llm?: llm.LLM;
  /** Data tools by name; only those the workflow lists are installed (the allow-list). */
  tools?: Readonly<Record<string, AnyTool>>;
  /** The human escalation tool, present in every workflow. */
  transferTool?: AnyTool;
  /** First agent of a call: what it says on entry, as text or already being synthesized. */
  greeting?: string | PreparedSpeech;
  /** Agent handed a call: the note, and the caller's words it should answer first. */
  handoff?: { note: HandoffNote; callerWords: string };
  /**
   * Agent taking over a call whose agent died: the transcript so far (with tool calls), from
   * which its workflow knows the step the call is at. It says `greeting` (an apology and the last
   * question) on entry.
   */
  history?: llm.ChatItem[];
  next?: (to: WorkflowName, handoff: { note: HandoffNote; callerWords: string }) => CallAgent;
}

/** Words whose audio the worker made ahead; `audio` is undefined when it could make none. */
export interface PreparedSpeech {
  readonly text: string;
  audio(): Promise<ReadableStream<AudioFrame> | undefined>;
}

/**
 * The voice.Agent that runs one workflow on a call. It greets (or, when handed a call, answers
 * the words that caused the handoff), and carries only the tools its workflow is allowed.
 */
export class CallAgent extends voice.Agent {
  readonly workflowName: WorkflowName;
  readonly workflow: Workflow;
  readonly #options: CallAgentOptions;

  constructor(options: CallAgentOptions) {
    const chatCtx = options.history ? new llm.ChatContext(options.history) : llm.ChatContext.empty();
    if (options.handoff) {
      chatCtx.addMessage({ role: 'system', content: `${HANDOFF_NOTE_PREFIX}${JSON.stringify(options.handoff.note)}` });
      if (options.handoff.callerWords) chatCtx.addMessage({ role: 'user', content: options.handoff.callerWords });
    }
    // The handoff tool reads this agent's transcript when it runs, long after construction.
    const self: { agent?: CallAgent } = {};
    super({
      instructions: workflowInstructions(options.name, options.profile, options.handoff?.note),
      chatCtx,
      llm: options.llm,
      tools: [
        // The caller hears the goodbye in full before the room is closed, which hangs up SIP legs.
        beta.createEndCallTool({ endInstructions: null, deleteRoom: true }),
        ...(options.transferTool ? [options.transferTool] : []),
        ...options.workflow.tools.flatMap((name) => (options.tools?.[name] ? [options.tools[name]] : [])),
        ...(options.next && options.workflow.handoffs.length > 0 ? [handoffTool(options, () => self.agent!.chatCtx.items)] : []),
      ],
    });
    self.agent = this;
    this.workflowName = options.name;
    this.workflow = options.workflow;
    this.#options = options;
  }

  override async onEnter(): Promise<void> {
    if (this.#options.handoff?.callerWords) {
      this.session.generateReply();
      return;
    }
    const greeting = this.#options.greeting ?? this.workflow.greeting();
    if (typeof greeting === 'string') {
      this.session.say(greeting);
      return;
    }
    const audio = await greeting.audio();
    this.session.say(greeting.text, audio && { audio });
  }
}

/** Hands the call to another allowed workflow with a note, not a replay of the transcript. */
function handoffTool(options: CallAgentOptions, transcript: () => readonly llm.ChatItem[]): AnyTool {
  const targets = options.workflow.handoffs as [WorkflowName, ...WorkflowName[]];
  return llm.tool({
    name: HANDOFF_TO_WORKFLOW,
    description: 'Hand the call to the agent for the caller\'s need, with a short reason and the facts collected so far.',
    parameters: z.object({
      workflow: z.enum(targets),
      reason: z.string().max(200),
      fields: z.record(z.string().max(40), z.string().max(120)).optional(),
    }),
    execute: async ({ workflow, reason, fields }) => {
      const callerWords = lastCallerWords(transcript());
      const note: HandoffNote = { from: options.name, reason, fields: fields ?? {} };
      return llm.handoff({ agent: options.next!(workflow, { note, callerWords }), returns: undefined });
    },
  });
}


function lastCallerWords(items: readonly llm.ChatItem[]): string {
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i]!;
    if (item.type === 'message' && item.role === 'user') return item.textContent ?? '';
  }
  return '';
}
