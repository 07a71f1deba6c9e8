import { llm, DEFAULT_API_CONNECT_OPTIONS, shortuuid, type APIConnectOptions } from '@livekit/agents';
import { HANDOFF_NOTE_PREFIX } from '../../agents/call-agent.js';
import { HANDOFF_TO_WORKFLOW, TRANSFER_FAILED, TRANSFER_TO_HUMAN } from '../../agents/workflow/phrases.js';
import type { Turn, Workflow, WorkflowReply } from '../../agents/workflows.js';

/**
 * A scripted workflow presented as an `llm.LLM`, so the session runs the same way whether the
 * brain is OpenAI or the offline engine, and so the engine can sit last behind OpenAI in the
 * framework's FallbackAdapter.
 */
export class WorkflowLLM extends llm.LLM {
  readonly workflow: Workflow;
  /** The reply of each chat() call in order; the worker logs intents from it. */
  onReply?: (reply: WorkflowReply) => void;

  constructor(workflow: Workflow) {
    super();
    this.workflow = workflow;
  }

  label(): string {
    return `voicefleet.WorkflowLLM(${this.workflow.name})`;
  }

  override get model(): string {
    return `workflow:${this.workflow.name}`;
  }

  override get provider(): string {
    return 'voicefleet';
  }

  chat({
    chatCtx,
    toolCtx,
    connOptions = DEFAULT_API_CONNECT_OPTIONS,
  }: {
    chatCtx: llm.ChatContext;
    toolCtx?: llm.ToolContextLike;
    connOptions?: APIConnectOptions;
  }): llm.LLMStream {
    return new WorkflowLLMStream(this, { chatCtx, toolCtx, connOptions });
  }
}

/** Reads the conversation from a chat context: user and assistant text turns, in order. */
export function turnsOf(chatCtx: { readonly items: readonly llm.ChatItem[] }): Turn[] {
  const turns: Turn[] = [];
  for (const item of chatCtx.items) {
    if (item.type === 'function_call_output') {
      turns.push({ role: 'tool', tool: item.name, text: item.output });
      continue;
    }
    if (item.type !== 'message') continue;
    const content = item.textContent ?? '';
    if (item.role === 'system' && content.startsWith(HANDOFF_NOTE_PREFIX)) {
      turns.push({ role: 'handoff', text: content.slice(HANDOFF_NOTE_PREFIX.length) });
      continue;
    }
    if (item.role !== 'user' && item.role !== 'assistant') continue;
    const text = item.textContent?.trim();
    if (text) turns.push({ role: item.role, text });
  }
  return turns;
}

class WorkflowLLMStream extends llm.LLMStream {
  readonly #owner: WorkflowLLM;

  constructor(
    owner: WorkflowLLM,
    params: { chatCtx: llm.ChatContext; toolCtx?: llm.ToolContextLike; connOptions: APIConnectOptions },
  ) {
    super(owner, params);
    this.#owner = owner;
  }

  protected async run(): Promise<void> {
    const turns = turnsOf(this.chatCtx);
    const last = turns.at(-1);
    const workflow = this.#owner.workflow;
    let reply: WorkflowReply | undefined;
    if (last?.role === 'user') reply = workflow.respond(turns.slice(0, -1), last.text);
    // After a tool's output the framework asks again: the workflow may have more to say.
    else if (last?.role === 'tool') reply = afterTool(workflow, turns);
    if (!reply) return;
    this.#owner.onReply?.(reply);
    const id = shortuuid('wf_');

    // Word-sized chunks let the TTS sentence tokenizer start on the first sentence at once.
    for (const piece of reply.text.match(/\S+\s*/g) ?? []) {
      this.queue.put({ id, delta: { role: 'assistant', content: piece } });
    }

    const calls = [
      ...(reply.action ? [{ name: reply.action, args: {} }] : []),
      ...(reply.toolRequest ? [reply.toolRequest] : []),
      ...(reply.handoff
        ? [{ name: HANDOFF_TO_WORKFLOW, args: { workflow: reply.handoff.to, reason: reply.handoff.reason, fields: reply.handoff.fields ?? {} } }]
        : []),
    ].filter((call) => this.toolCtx?.hasTool(call.name));
    if (calls.length > 0) {
      this.queue.put({
        id,
        delta: {
          role: 'assistant',
          toolCalls: calls.map((call) =>
            llm.FunctionCall.create({ callId: `${id}_${call.name}`, name: call.name, args: JSON.stringify(call.args) }),
          ),
        },
      });
    }
  }
}

/** Call-control tools answer the same way in every workflow; data tools are the workflow's. */
function afterTool(workflow: Workflow, turns: readonly Turn[]): WorkflowReply | undefined {
  const last = turns.at(-1)!;
  if (last.tool === TRANSFER_TO_HUMAN) {
    const transferred = (() => {
      try {
        return (JSON.parse(last.text) as { transferred?: boolean }).transferred === true;
      } catch {
        return false;
      }
    })();
    // A transferred caller has left for the human line: nothing more to say.
    return transferred ? undefined : { text: TRANSFER_FAILED, intent: 'callback_requested' };
  }
  return workflow.afterTool?.(turns);
}
