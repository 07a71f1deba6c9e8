import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HANDOFF_NOTE_PREFIX } from '../../agents/call-agent.js';
import { WORKFLOW_MARKER } from '../../agents/prompts.js';
import { HANDOFF_TO_WORKFLOW, TRANSFER_FAILED, TRANSFER_TO_HUMAN } from '../../agents/workflow/phrases.js';
import type { Turn, Workflow, WorkflowName, WorkflowReply } from '../../agents/workflows.js';
import { Caller, type TurnReport } from '../../worker/testing/caller.js';
import type { TestStack } from './servers.js';

/** Length of the tone the speech endpoint answers with. */
export const SPEECH_TONE_MS = 700;

/** How the stub answers the next requests. */
export type StubMode = 'workflow' | 'error500' | 'stallBeforeHeaders' | 'stallMidStream';

interface OpenAIMessage {
  role: string;
  content?: unknown;
  tool_calls?: { id: string; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

/**
 * A local OpenAI-compatible chat-completions endpoint (streaming SSE, function calling), so the
 * real OpenAI plugin runs end to end with no key and no network. In `workflow` mode it answers as
 * the scripted workflow named in the prompt would, tool calls included; the other modes
 * reproduce provider failures.
 */
export class OpenAICompatibleServer {
  mode: StubMode = 'workflow';
  requests = 0;
  /** How the speech endpoint answers: a 700 ms tone, or a failure. */
  speechMode: 'tone' | 'error500' | 'stallBeforeHeaders' | 'stallMidBody' = 'tone';
  speechRequests = 0;
  /** GET /models: what a client warming up asks for. */
  modelListRequests = 0;
  /** Tool names the model was offered in the latest request. */
  lastOfferedTools: string[] = [];
  /**
   * Fixed provider latencies (the benchmark's injected-latency providers): the first chat token
   * and the first speech bytes are held back this long, so a run can subtract them exactly.
   */
  latency = { llmFirstTokenMs: 0, ttsFirstAudioMs: 0 };
  /** Answer a request with no caller turn yet (a greeting asked for by instructions) with the workflow's greeting. */
  greetWhenAsked = false;
  /** The `model` of every speech request, in order. */
  readonly speechModels: string[] = [];
  readonly #server: Server;
  /** The workflow a prompt names; a test sets it per call when calls differ in settings. */
  workflowFor: (name: WorkflowName | undefined) => Workflow;
  readonly #open = new Set<ServerResponse>();

  private constructor(workflowFor: (name: WorkflowName | undefined) => Workflow) {
    this.workflowFor = workflowFor;
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  /** `workflows` gives the workflow a prompt names (undefined: a prompt without a marker). */
  static async start(workflows: Workflow | ((name: WorkflowName | undefined) => Workflow)): Promise<OpenAICompatibleServer> {
    const stub = new OpenAICompatibleServer(typeof workflows === 'function' ? workflows : () => workflows);
    await new Promise<void>((resolve) => stub.#server.listen(0, '127.0.0.1', resolve));
    return stub;
  }
  get baseURL(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1`;
  }

  async close(): Promise<void> {
    for (const res of this.#open) res.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method === 'POST' && req.url?.endsWith('/audio/speech')) {
      this.speechModels.push(speechModelOf(Buffer.concat(chunks).toString('utf8')));
      await this.#hold(this.latency.ttsFirstAudioMs, res);
      this.#speech(res);
      return;
    }
    if (req.method === 'GET' && req.url?.endsWith('/models')) {
      this.modelListRequests += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: 'stub', object: 'model', created: 0, owned_by: 'voicefleet' }] }));
      return;
    }
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
      res.writeHead(404).end();
      return;
    }
    this.requests += 1;
    this.#open.add(res);
    res.on('close', () => this.#open.delete(res));
    if (this.mode === 'error500') {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"upstream exploded"}}');
      return;
    }
    if (this.mode === 'stallBeforeHeaders') return; // never answers

    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      messages: OpenAIMessage[];
      tools?: { function: { name: string } }[];
    };
    this.lastOfferedTools = (body.tools ?? []).map((t) => t.function.name);
    const { turns, workflow } = this.#read(body.messages);
    const reply = turns.length === 0 && this.greetWhenAsked ? { text: workflow.greeting(), intent: 'greeting' } : answer(workflow, turns);
    await this.#hold(this.latency.llmFirstTokenMs, res);
    if (res.destroyed) return;

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (delta: Record<string, unknown>, finish: string | null = null) =>
      res.write(
        `data: ${JSON.stringify({ id: 'chatcmpl-stub', object: 'chat.completion.chunk', created: 0, model: 'stub', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`,
      );
    const words = reply?.text.match(/\S+\s*/g) ?? [];
    send({ role: 'assistant', content: '' });
    if (this.mode === 'stallMidStream') {
      send({ content: words[0] ?? '' });
      return; // the rest never comes
    }
    for (const word of words) send({ content: word });
    // Like a real model, it calls only tools it was offered.
    const calls = reply ? toolCallsOf(reply).filter((c) => this.lastOfferedTools.includes(c.name)) : [];
    calls.forEach((call, index) =>
      send({ tool_calls: [{ index, id: `call_${this.requests}_${index}`, type: 'function', function: { name: call.name, arguments: JSON.stringify(call.args) } }] }),
    );
    send({}, calls.length > 0 ? 'tool_calls' : 'stop');
    res.end('data: [DONE]\n\n');
  }

  /** Waits `ms` (an injected provider latency), or until the client went away. */
  async #hold(ms: number, res: ServerResponse): Promise<void> {
    if (ms <= 0) return;
    this.#open.add(res);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      res.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** OpenAI's speech endpoint with response_format pcm: 24 kHz, 16-bit, mono. */
  #speech(res: ServerResponse): void {
    if (res.destroyed) return;
    this.speechRequests += 1;
    this.#open.add(res);
    res.on('close', () => this.#open.delete(res));
    if (this.speechMode === 'error500') {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"speech exploded"}}');
      return;
    }
    if (this.speechMode === 'stallBeforeHeaders') return;
    const pcm = Buffer.alloc((24_000 * SPEECH_TONE_MS) / 1000 * 2);
    for (let i = 0; i < pcm.length / 2; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 24_000)), i * 2);
    res.writeHead(200, { 'content-type': 'audio/pcm' });
    if (this.speechMode === 'stallMidBody') {
      res.write(pcm.subarray(0, pcm.length / 4));
      return; // the rest never comes
    }
    res.end(pcm);
  }

  /** The transcript as the workflow engine sees it, and the workflow the prompt names. */
  #read(messages: OpenAIMessage[]): { turns: Turn[]; workflow: Workflow } {
    const turns: Turn[] = [];
    const toolNames = new Map<string, string>();
    let name: WorkflowName | undefined;
    for (const m of messages) {
      const text = textOf(m.content);
      if (m.role === 'system' || m.role === 'developer') {
        if (text.startsWith(HANDOFF_NOTE_PREFIX)) turns.push({ role: 'handoff', text: text.slice(HANDOFF_NOTE_PREFIX.length) });
        const marker = text.split('\n').find((line) => line.startsWith(WORKFLOW_MARKER));
        if (marker) name = marker.slice(WORKFLOW_MARKER.length) as WorkflowName;
      } else if (m.role === 'user' || m.role === 'assistant') {
        if (text.trim()) turns.push({ role: m.role, text: text.trim() });
        for (const call of m.tool_calls ?? []) toolNames.set(call.id, call.function.name);
      } else if (m.role === 'tool') {
        turns.push({ role: 'tool', tool: toolNames.get(m.tool_call_id ?? ''), text });
      }
    }
    return { turns, workflow: this.workflowFor(name) };
  }
}

function answer(workflow: Workflow, turns: Turn[]): WorkflowReply | undefined {
  const last = turns.at(-1);
  if (last?.role === 'user') return workflow.respond(turns.slice(0, -1), last.text);
  if (last?.role !== 'tool') return undefined;
  if (last.tool === TRANSFER_TO_HUMAN) return last.text.includes('"transferred":true') ? undefined : { text: TRANSFER_FAILED, intent: 'callback_requested' };
  return workflow.afterTool?.(turns);
}

function toolCallsOf(reply: WorkflowReply): { name: string; args: Record<string, unknown> }[] {
  return [
    ...(reply.action ? [{ name: reply.action, args: {} }] : []),
    ...(reply.toolRequest ? [reply.toolRequest] : []),
    ...(reply.handoff ? [{ name: HANDOFF_TO_WORKFLOW, args: { workflow: reply.handoff.to, reason: reply.handoff.reason, fields: reply.handoff.fields ?? {} } }] : []),
  ];
}

function speechModelOf(body: string): string {
  try {
    return String((JSON.parse(body) as { model?: unknown }).model);
  } catch {
    return 'unreadable';
  }
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p: { text?: string }) => p.text ?? '').join(' ');
  return '';
}

/** How the local OpenAI endpoint fails for one turn: its chat answers and its speech answers. */
export interface ProviderFailure {
  llm: StubMode;
  speech: OpenAICompatibleServer['speechMode'];
}

/**
 * One question on a fresh call while the endpoint fails. The call is greeted with healthy
 * providers first: each call's fallback adapters start with every provider available, so every
 * trial meets the failure the same way.
 */
export async function turnWhileProvidersFail(
  stack: Pick<TestStack, 'livekitUrl' | 'apiKey' | 'apiSecret'>,
  stub: OpenAICompatibleServer,
  agentName: string,
  failure: ProviderFailure,
  line: string,
): Promise<TurnReport & { room: string }> {
  stub.mode = 'workflow';
  stub.speechMode = 'tone';
  const caller = await Caller.join({ url: stack.livekitUrl, apiKey: stack.apiKey, apiSecret: stack.apiSecret, agentName });
  try {
    await caller.greeting(30_000);
    await caller.waitForAgentToFinish(30_000);
    stub.mode = failure.llm;
    stub.speechMode = failure.speech;
    return { ...(await caller.turn(line, 30_000)), room: caller.roomName };
  } finally {
    await caller.hangUp();
  }
}
