import { describe, expect, it } from 'vitest';
import type { BookingResult, Slot } from './calendar.js';
import type { Turn, WorkflowReply } from '../workflow/types.js';
import { DEFAULT_BUSINESS_PROFILE } from '../receptionist/business-profile.js';
import { createBookingWorkflow } from './workflow.js';

const workflow = createBookingWorkflow(DEFAULT_BUSINESS_PROFILE);

const FREE: Slot[] = [{ id: '2026-12-01T09:00' }, { id: '2026-12-01T14:00' }, { id: '2026-12-02T10:00' }];

/** Runs tools the way the worker would, against a calendar held in memory. */
function runTool(
  request: NonNullable<WorkflowReply['toolRequest']>,
  taken: Set<string>,
  free: Slot[],
  goneBeforeBooking: Set<string>,
): string {
  if (request.name === 'find_free_slots') {
    const weekday = request.args.weekday as string | undefined;
    const slots = free.filter((s) => !taken.has(s.id) && (!weekday || weekday === 'Tuesday'));
    return JSON.stringify({ weekday, slots: weekday === 'Sunday' ? [] : slots });
  }
  const slotId = request.args.slotId as string;
  // Another caller took it between the offer and the booking.
  if (goneBeforeBooking.has(slotId)) taken.add(slotId);
  const result: BookingResult = taken.has(slotId)
    ? { ok: false, reason: 'taken' }
    : { ok: true, slot: { id: slotId }, bookingId: 'bk_1' };
  return JSON.stringify(result);
}

/** Plays a caller's lines through the workflow the way a session would, tools included. */
function converse(
  lines: string[],
  options: { free?: Slot[]; goneBeforeBooking?: Set<string> } = {},
): { history: Turn[]; intents: string[]; actions: (string | undefined)[]; said: string[] } {
  const taken = new Set<string>();
  const history: Turn[] = [{ role: 'assistant', text: workflow.greeting() }];
  const intents: string[] = [];
  const actions: (string | undefined)[] = [];
  const said: string[] = [];
  const record = (reply: WorkflowReply) => {
    history.push({ role: 'assistant', text: reply.text });
    intents.push(reply.intent);
    said.push(reply.text);
    let request = reply.toolRequest;
    while (request) {
      history.push({ role: 'tool', tool: request.name, text: runTool(request, taken, options.free ?? FREE, options.goneBeforeBooking ?? new Set()) });
      const next = workflow.afterTool!(history)!;
      history.push({ role: 'assistant', text: next.text });
      intents.push(next.intent);
      said.push(next.text);
      request = next.toolRequest;
    }
  };
  for (const line of lines) {
    history.push({ role: 'user', text: line });
    const reply = workflow.respond(history.slice(0, -1), line);
    actions.push(reply.action);
    record(reply);
  }
  return { history, intents, actions, said };
}

describe('booking workflow (pure, with an in-memory calendar)', () => {
  it('greets with the business name and what it can do', () => {
    expect(workflow.greeting()).toBe('Thank you for calling Acme Dental. I can book, move or cancel an appointment. What would you like to do?');
  });

  it('answers a question mid-booking from the knowledge file, then asks the pending question again', () => {
    const { said, intents } = converse(["I'd like to book an appointment", 'how much does it cost']);
    expect(intents.at(-1)).toBe('faq:prices');
    expect(said.at(-1)).toMatch(/95 dollars\..*Which of those times would you like\? For example, the first one\.$/);
  });

  it('books a free time: offers slots from the calendar, confirms, books, then ends the call', () => {
    const { said, intents, actions } = converse([
      "I'd like to book an appointment",
      'two pm please',
      'yes please book it',
      'no that is all',
    ]);
    expect(said[1]).toBe('I have Tuesday at 9 AM, Tuesday at 2 PM or Wednesday at 10 AM. Which would you like?');
    expect(said[2]).toBe('To confirm: Tuesday at 2 PM. Shall I book it?');
    expect(said[4]).toContain('You are booked for Tuesday at 2 PM.');
    expect(intents).toEqual(['book', 'offer_slots', 'confirm_slot', 'book_slot', 'booked', 'goodbye']);
    expect(actions.at(-1)).toBe('end_call');
  });

  it('takes an answer that starts with yes as a yes when confirming', () => {
    const { intents } = converse(["I'd like to book an appointment", 'nine', 'yes please located']);
    expect(intents.slice(-2)).toEqual(['book_slot', 'booked']);
  });

  it('looks only at the day the caller names, and picks by position', () => {
    const { said } = converse(['can I book a cleaning for tuesday', 'the first one']);
    expect(said[1]).toContain('Which would you like?');
    expect(said[2]).toBe('To confirm: Tuesday at 9 AM. Shall I book it?');
  });

  it('asks for another day when the named day has no free time', () => {
    const { said, intents } = converse(['book an appointment on sunday', 'tuesday']);
    expect(said[1]).toBe('Sorry, I have no free times on Sunday. Which day would you like? For example, Monday or Tuesday.');
    expect(intents.slice(0, 3)).toEqual(['book', 'no_slots', 'book']);
    expect(said[3]).toContain('I have Tuesday at 9 AM');
  });

  it('looks again when the chosen time was taken in the meantime', () => {
    const { said, intents } = converse(["I'd like to book an appointment", 'nine', 'yes'], {
      goneBeforeBooking: new Set(['2026-12-01T09:00']),
    });
    expect(intents.slice(-3)).toEqual(['book_slot', 'slot_taken', 'offer_slots']);
    expect(said.at(-2)).toBe('Sorry, that time was just taken. Let me look again.');
    expect(said.at(-1)).toBe('I have Tuesday at 2 PM or Wednesday at 10 AM. Which would you like?');
  });

  it('asks again when the choice is unclear, and offers again after a "no"', () => {
    const { said } = converse(["I'd like to book an appointment", 'hmm whenever', 'ten', 'no']);
    expect(said[2]).toBe('Which of those times would you like? For example, the first one.');
    expect(said[3]).toBe('To confirm: Wednesday at 10 AM. Shall I book it?');
    expect(said[4]).toBe('No problem. Which of those times would you like? For example, the first one.');
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
    const a = converse(['book an appointment', 'two', 'yes']);
    const b = converse(['book an appointment', 'two', 'yes']);
    expect(a.history).toEqual(b.history);
  });
});
