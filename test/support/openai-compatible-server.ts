import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Turn, Workflow } from '../../agents/workflows.js';

/** How the stub answers the next requests. */
export type StubMode = 'workflow' | 'error500' | 'stallBeforeHeaders' | 'stallMidStream';

/**
 * A local OpenAI-compatible chat-completions endpoint (streaming SSE), so the real OpenAI plugin
 * runs end to end with no key and no network. In `workflow` mode it answers as the scripted
 * workflow would; the other modes reproduce provider failures.
 */
export class OpenAICompatibleServer {
  mode: StubMode = 'workflow';
  requests = 0;
  readonly #server: Server;
  readonly #workflow: Workflow;
  readonly #open = new Set<ServerResponse>();

  private constructor(workflow: Workflow) {
    this.#workflow = workflow;
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  static async start(workflow: Workflow): Promise<OpenAICompatibleServer> {
    const stub = new OpenAICompatibleServer(workflow);
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

    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { messages: { role: string; content: unknown }[] };
    const turns: Turn[] = body.messages
      .filter((m) => m.role === 'user' || m.role === 'assistant')
      .map((m) => ({ role: m.role as Turn['role'], text: textOf(m.content) }));
    const last = turns.at(-1);
    const reply = last?.role === 'user' ? this.#workflow.respond(turns.slice(0, -1), last.text).text : '';

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (delta: Record<string, unknown>, finish: string | null = null) =>
      res.write(
        `data: ${JSON.stringify({ id: 'chatcmpl-stub', object: 'chat.completion.chunk', created: 0, model: 'stub', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`,
      );
    const words = reply.match(/\S+\s*/g) ?? [];
    send({ role: 'assistant', content: '' });
    if (this.mode === 'stallMidStream') {
      send({ content: words[0] ?? '' });
      return; // the rest never comes
    }
    for (const word of words) send({ content: word });
    send({}, 'stop');
    res.end('data: [DONE]\n\n');
  }
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p: { text?: string }) => p.text ?? '').join(' ');
  return '';
}
