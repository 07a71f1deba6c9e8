import { initializeLogger, voice } from '@livekit/agents';
import { afterEach, describe, expect, it } from 'vitest';
import { CallAgent } from '../../agents/call-agent.js';
import { createWorkflow, DEFAULT_BUSINESS_PROFILE } from '../../agents/workflows.js';
import { WorkflowLLM } from './workflow-llm.js';

initializeLogger({ pretty: false, level: 'warn' });

/** Text-mode sessions: the real AgentSession and agent, with the workflow engine as the LLM. */
describe('WorkflowLLM in an AgentSession (text mode)', () => {
  let session: voice.AgentSession | undefined;

  afterEach(async () => {
    await session?.close();
    session = undefined;
  });

  async function start(): Promise<{ session: voice.AgentSession; llm: WorkflowLLM }> {
    const workflow = createWorkflow('receptionist');
    const llm = new WorkflowLLM(workflow);
    session = new voice.AgentSession({ llm });
    await session.start({
      agent: new CallAgent({ workflow, profile: DEFAULT_BUSINESS_PROFILE, greeting: workflow.greeting() }),
    });
    return { session, llm };
  }

  it('answers an opening-hours question with the profile hours', async () => {
    const { session } = await start();
    const result = session.run({ userInput: 'what are your opening hours' });
    await result.wait();
    result.expect.nextEvent().isMessage({ role: 'assistant' });
    const message = result.events.find((e) => e.type === 'message');
    expect(message?.item.textContent).toContain(DEFAULT_BUSINESS_PROFILE.hours);
  });

  it('keeps the flow across turns from the chat history', async () => {
    const { session, llm } = await start();
    const intents: string[] = [];
    llm.onReply = (reply) => intents.push(reply.intent);
    await session.run({ userInput: "I'd like to book an appointment" }).wait();
    const second = session.run({ userInput: 'wednesday' });
    await second.wait();
    const message = second.events.find((e) => e.type === 'message');
    expect(message?.item.textContent).toContain('on Wednesday');
    expect(intents).toEqual(['book', 'book_day']);
  });

  it('ends the call through the framework end_call tool on goodbye', async () => {
    const { session } = await start();
    const result = session.run({ userInput: 'thanks, goodbye' });
    await result.wait();
    result.expect.containsFunctionCall({ name: 'end_call' });
  });
});
