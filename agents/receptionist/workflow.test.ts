import { describe, expect, it } from 'vitest';
import type { Turn } from '../workflow/types.js';
import { DEFAULT_BUSINESS_PROFILE } from './business-profile.js';
import { createReceptionistWorkflow } from './workflow.js';

const workflow = createReceptionistWorkflow(DEFAULT_BUSINESS_PROFILE);

/** Plays a caller's lines through the workflow the way a session would. */
function converse(lines: string[]): { history: Turn[]; intents: string[]; actions: (string | undefined)[] } {
  const history: Turn[] = [{ role: 'assistant', text: workflow.greeting() }];
  const intents: string[] = [];
  const actions: (string | undefined)[] = [];
  for (const line of lines) {
    const reply = workflow.respond(history, line);
    history.push({ role: 'user', text: line }, { role: 'assistant', text: reply.text });
    intents.push(reply.intent);
    actions.push(reply.action);
  }
  return { history, intents, actions };
}

describe('receptionist workflow', () => {
  it('greets with the business name', () => {
    expect(workflow.greeting()).toContain('Acme Dental');
  });

  it('answers opening hours, address and prices from the business profile', () => {
    const { history, intents } = converse([
      'what are your opening hours',
      'where are you located',
      'how much does a cleaning cost',
    ]);
    expect(intents).toEqual(['hours', 'location', 'prices']);
    expect(history[2]!.text).toContain(DEFAULT_BUSINESS_PROFILE.hours);
    expect(history[4]!.text).toContain(DEFAULT_BUSINESS_PROFILE.address);
  });

  it('takes a booking request over two turns, then says goodbye and ends the call', () => {
    const { history, intents, actions } = converse([
      "I'd like to book an appointment",
      'tuesday please',
      'no that is all',
    ]);
    expect(intents).toEqual(['book', 'book_day', 'goodbye']);
    expect(history[4]!.text).toContain('on Tuesday');
    expect(actions[2]).toBe('end_call');
  });

  it('takes the day in the same sentence as the request', () => {
    const { intents, history } = converse(['can I book a cleaning for friday']);
    expect(intents).toEqual(['book_day']);
    expect(history[2]!.text).toContain('on Friday');
  });

  it('hands over to a person on request', () => {
    const { actions } = converse(['can I talk to a person']);
    expect(actions).toEqual(['transfer_to_human']);
  });

  it('re-asks once, then offers a person, and "yes" transfers', () => {
    const { intents, actions, history } = converse(['purple monkey dishwasher', 'banana', 'yes']);
    expect(intents).toEqual(['fallback', 'fallback', 'human']);
    expect(history[4]!.text).toMatch(/connect you to a member of our team\?$/);
    expect(actions[2]).toBe('transfer_to_human');
  });

  it('treats "yes" with no open question as not understood', () => {
    expect(converse(['yes']).intents).toEqual(['fallback']);
  });

  it('handles empty and garbage transcripts without throwing', () => {
    expect(workflow.respond([], '').intent).toBe('fallback');
    expect(workflow.respond([], '%%%  ###').intent).toBe('fallback');
  });

  it('is deterministic: the same transcript gives the same reply', () => {
    const a = converse(['book an appointment', 'monday']);
    const b = converse(['book an appointment', 'monday']);
    expect(a.history).toEqual(b.history);
  });
});
