import { initializeLogger, voice } from '@livekit/agents';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CallAgent } from '../../agents/call-agent.js';
import { createWorkflow, DEFAULT_BUSINESS_PROFILE, knowledgeAnswer } from '../../agents/workflows.js';
import { OpenAICompatibleServer } from '../../test/support/openai-compatible-server.js';
import { loadConfig } from '../config.js';
import { buildLLM } from './session-providers.js';

initializeLogger({ pretty: false, level: 'error' });

/**
 * The real OpenAI plugin against a local OpenAI-compatible endpoint, with the workflow engine
 * behind it in the framework's FallbackAdapter: a failing provider must never leave the caller
 * without an answer, nor end the session.
 */
describe('OpenAI LLM with the workflow engine as fallback', () => {
  const workflow = createWorkflow('receptionist');
  let stub: OpenAICompatibleServer;
  let session: voice.AgentSession | undefined;

  beforeAll(async () => {
    stub = await OpenAICompatibleServer.start(workflow);
  });
  afterAll(async () => {
    await stub.close();
  });
  afterEach(async () => {
    await session?.close();
    session = undefined;
  });

  async function start() {
    const config = loadConfig({ OPENAI_API_KEY: 'sk-local-test', OPENAI_BASE_URL: stub.baseURL });
    const { llm, workflowLLM } = buildLLM(config, workflow);
    const engineReplies: string[] = [];
    workflowLLM.onReply = (r) => engineReplies.push(r.intent);
    session = new voice.AgentSession({ llm });
    await session.start({
      agent: new CallAgent({ name: 'receptionist', workflow, profile: DEFAULT_BUSINESS_PROFILE }),
    });
    return { session, engineReplies };
  }

  async function ask(s: voice.AgentSession, text: string): Promise<{ reply: string; ms: number }> {
    const started = performance.now();
    const result = s.run({ userInput: text });
    await result.wait();
    const message = result.events.find((e) => e.type === 'message');
    return { reply: message?.item.textContent ?? '', ms: performance.now() - started };
  }

  it('answers through the OpenAI plugin while the endpoint is healthy', async () => {
    stub.mode = 'workflow';
    const before = stub.requests;
    const { session, engineReplies } = await start();
    const { reply } = await ask(session, 'where are you located');
    expect(reply).toContain(knowledgeAnswer(DEFAULT_BUSINESS_PROFILE, 'location'));
    expect(stub.requests).toBe(before + 1);
    expect(engineReplies).toEqual([]);
  });

  it('falls back to the engine on HTTP 500 and keeps the session alive for the next turn', async () => {
    stub.mode = 'error500';
    const { session, engineReplies } = await start();
    const first = await ask(session, 'what are your opening hours');
    expect(first.reply).toContain(knowledgeAnswer(DEFAULT_BUSINESS_PROFILE, 'hours'));
    const second = await ask(session, 'where are you located');
    expect(second.reply).toContain(knowledgeAnswer(DEFAULT_BUSINESS_PROFILE, 'location'));
    expect(engineReplies).toEqual(['faq:hours', 'faq:location']);
  });

  it('answers from the engine soon after the attempt timeout when the endpoint hangs', async () => {
    stub.mode = 'stallBeforeHeaders';
    const { session, engineReplies } = await start();
    const { reply, ms } = await ask(session, 'how much does a cleaning cost');
    expect(reply).toContain(knowledgeAnswer(DEFAULT_BUSINESS_PROFILE, 'prices'));
    expect(engineReplies).toEqual(['faq:prices']);
    // 1.2 s attempt timeout plus slack for a loaded 2-core machine.
    expect(ms).toBeLessThan(4000);
  });

  it('abandons an answer that stalls mid-stream and answers from the engine', async () => {
    stub.mode = 'stallMidStream';
    const { session, engineReplies } = await start();
    const { reply, ms } = await ask(session, 'where are you located');
    expect(reply).toContain(knowledgeAnswer(DEFAULT_BUSINESS_PROFILE, 'location'));
    expect(engineReplies).toEqual(['faq:location']);
    expect(ms).toBeLessThan(4000);
  });
});
