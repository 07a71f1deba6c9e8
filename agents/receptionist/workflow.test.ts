import { describe, expect, it } from 'vitest';
import type { Turn } from '../workflow/types.js';
import { DEFAULT_BUSINESS_PROFILE, knowledgeAnswer } from './business-profile.js';
import { createReceptionistWorkflow } from './workflow.js';

const routed = createReceptionistWorkflow(DEFAULT_BUSINESS_PROFILE, { handoffs: ['booking', 'support_triage', 'lead_qualification'] });
const alone = createReceptionistWorkflow(DEFAULT_BUSINESS_PROFILE, { handoffs: [] });

function reply(text: string, history: Turn[] = [{ role: 'assistant', text: routed.greeting() }]) {
  return routed.respond(history, text);
}

describe('receptionist (routing)', () => {
  it.each([
    ["I'd like to book an appointment", 'booking', 'book'],
    ['I need to reschedule my appointment', 'booking', 'reschedule'],
    ['please cancel my booking', 'booking', 'cancel'],
    ['I was charged twice on my bill', 'support_triage', 'support'],
    ['I have a toothache', 'support_triage', 'support'],
    ['I would like a quote for my company', 'lead_qualification', 'sales'],
  ])('hands "%s" to %s', (text, to, intent) => {
    const r = reply(text);
    expect(r.handoff).toMatchObject({ to, fields: { intent } });
    expect(r.intent).toBe(`handoff:${to}`);
  });

  it('answers facts itself, from the knowledge file', () => {
    expect(reply('where are you located').text).toBe(`${knowledgeAnswer(DEFAULT_BUSINESS_PROFILE, 'location')} Is there anything else I can help you with?`);
    expect(reply('how much is a cleaning').intent).toBe('faq:prices');
  });

  it('offers a person for a need no allowed workflow covers', () => {
    const r = alone.respond([], "I'd like to book an appointment");
    expect(r.handoff).toBeUndefined();
    expect(r.intent).toBe('unrouted:booking');
    expect(r.text).toMatch(/connect you to a member of our team\?$/);
    const yes = alone.respond([{ role: 'assistant', text: r.text }], 'yes please');
    expect(yes.action).toBe('transfer_to_human');
  });

  it('puts a person above everything else', () => {
    expect(reply('can I speak to someone about my bill').action).toBe('transfer_to_human');
  });

  it('asks what the question is, and ends on "no" after "anything else"', () => {
    expect(reply('hi I have a question').text).toBe('Of course. What would you like to know?');
    const afterAnswer: Turn[] = [{ role: 'assistant', text: `${knowledgeAnswer(DEFAULT_BUSINESS_PROFILE, 'hours')} Is there anything else I can help you with?` }];
    expect(reply('no thank you', afterAnswer).action).toBe('end_call');
  });

  it('handles empty and garbage transcripts without throwing', () => {
    expect(reply('').intent).toBe('fallback');
    expect(reply('%%% ###').intent).toBe('fallback');
  });

  it('reports answered topics as its outcome', () => {
    const history: Turn[] = [
      { role: 'user', text: 'what are your hours' },
      { role: 'assistant', text: reply('what are your hours').text },
    ];
    expect(routed.outcome(history)).toEqual({ faq: { answered: ['hours'], unanswered: 0 }, resolved: true });
  });
});
