import { initializeLogger, voice } from '@livekit/agents';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createBookingTools } from '../../agents/booking/tools.js';
import { FileCalendar } from '../ports/file-calendar.js';
import { CallAgent } from '../../agents/call-agent.js';
import { createWorkflow, DEFAULT_BUSINESS_PROFILE, knowledgeAnswer } from '../../agents/workflows.js';
import { WorkflowLLM } from './workflow-llm.js';

initializeLogger({ pretty: false, level: 'warn' });

/** Text-mode sessions: the real AgentSession and agent, with the workflow engine as the LLM. */
describe('WorkflowLLM in an AgentSession (text mode)', () => {
  let session: voice.AgentSession | undefined;

  afterEach(async () => {
    await session?.close();
    session = undefined;
  });

  async function start(calendar?: FileCalendar): Promise<{ session: voice.AgentSession; llm: WorkflowLLM }> {
    const workflow = createWorkflow(calendar ? 'booking' : 'receptionist');
    const llm = new WorkflowLLM(workflow);
    session = new voice.AgentSession({ llm });
    await session.start({
      agent: new CallAgent({
        name: calendar ? 'booking' : 'receptionist',
        workflow,
        profile: DEFAULT_BUSINESS_PROFILE,
        tools: calendar ? createBookingTools(calendar, { callId: 'AJ_test', caller: '+15550001234' }) : {},
      }),
    });
    return { session, llm };
  }

  function spoken(result: voice.testing.RunResult): string[] {
    return result.events.flatMap((e) => (e.type === 'message' ? [e.item.textContent ?? ''] : []));
  }

  it('answers an opening-hours question with the profile hours', async () => {
    const { session } = await start();
    const result = session.run({ userInput: 'what are your opening hours' });
    await result.wait();
    result.expect.nextEvent().isMessage({ role: 'assistant' });
    const message = result.events.find((e) => e.type === 'message');
    expect(message?.item.textContent).toContain(knowledgeAnswer(DEFAULT_BUSINESS_PROFILE, 'hours'));
  });

  it('keeps the flow across turns from the chat history', async () => {
    const { session, llm } = await start();
    const intents: string[] = [];
    llm.onReply = (reply) => intents.push(reply.intent);
    await session.run({ userInput: 'can I talk to a person' }).wait();
    await session.run({ userInput: 'purple monkey' }).wait();
    const third = session.run({ userInput: 'banana' });
    await third.wait();
    expect(spoken(third)[0]).toMatch(/connect you to a member of our team\?$/);
    expect(intents).toEqual(['human', 'fallback', 'fallback']);
  });

  it('ends the call through the framework end_call tool on goodbye', async () => {
    const { session } = await start();
    const result = session.run({ userInput: 'thanks, goodbye' });
    await result.wait();
    result.expect.containsFunctionCall({ name: 'end_call' });
  });

  it('books through the real calendar tools: offer, confirm, book', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'voicefleet-booking-'));
    try {
      const path = join(dir, 'calendar.json');
      const calendar = new FileCalendar({
        path,
        openingHours: DEFAULT_BUSINESS_PROFILE.openingHours,
        daysAhead: 14,
        now: () => new Date(2026, 10, 30, 10, 30),
      });
      const { session } = await start(calendar);

      const offer = session.run({ userInput: "I'd like to book an appointment" });
      await offer.wait();
      offer.expect.containsFunctionCall({ name: 'find_free_slots' });
      expect(spoken(offer).join(' ')).toContain('I have Monday at 11 AM, Monday at 12 PM or Monday at 1 PM.');

      const confirm = session.run({ userInput: 'the second one' });
      await confirm.wait();
      expect(spoken(confirm)).toEqual(['To confirm: Monday at 12 PM. Shall I book it?']);

      const book = session.run({ userInput: 'yes please' });
      await book.wait();
      book.expect.containsFunctionCall({ name: 'book_slot' });
      expect(spoken(book).join(' ')).toContain('You are booked for Monday at 12 PM.');
      const stored = JSON.parse(readFileSync(path, 'utf8'));
      expect(stored.bookings.map((b: { slotId: string }) => b.slotId)).toEqual(['2026-11-30T12:00']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
