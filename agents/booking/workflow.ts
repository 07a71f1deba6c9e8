import { findAnswer } from '../knowledge/knowledge.js';
import type { BusinessProfile } from '../receptionist/business-profile.js';
import {
  consecutiveAgentTurns,
  handoffNoteOf,
  lastAgentText,
  lastToolOutput,
  parseToolOutput,
  userTexts,
} from '../workflow/history.js';
import { findDay, matchIntent, NO, normalizeUtterance, YES, type IntentPattern } from '../workflow/intents.js';
import type { OutcomeFields } from '../workflow/outcome.js';
import { commonPhrases, matchCommonIntent } from '../workflow/phrases.js';
import type { Turn, Workflow, WorkflowReply } from '../workflow/types.js';
import { describeSlot, type Booking, type BookingResult, type CancelResult, type RescheduleResult, type Slot } from './calendar.js';
import { chooseSlot, listSlots } from './slot-choice.js';
import {
  BOOK_SLOT,
  BOOKING_TOOLS,
  CANCEL_BOOKING,
  FIND_BOOKING,
  FIND_FREE_SLOTS,
  RESCHEDULE_BOOKING,
  WEEKDAY_NAMES,
} from './tools.js';

/**
 * Appointments: book a free time, move one, or cancel one. The caller may switch between the
 * three at any point ("actually, cancel it instead"); the latest thing they asked for wins.
 */

type Mode = 'book' | 'reschedule' | 'cancel';

export const BOOKING_MODE_INTENTS: readonly IntentPattern<Mode>[] = [
  { name: 'cancel', patterns: [/\bcancel/] },
  {
    name: 'reschedule',
    patterns: [/\breschedul/, /\b(change|move) (my|the|an|our|it)\b/, /\b(another|different) (time|day)\b/],
  },
  { name: 'book', patterns: [/\b(book|booking|appointment|schedule|reserve|check ?up|cleaning|visit)\b/] },
];

export function createBookingWorkflow(profile: BusinessProfile, options: { handoffs?: readonly string[] } = {}): Workflow {
  const common = commonPhrases(profile.name);
  const say = {
    ...common,
    greeting: `Thank you for calling ${profile.name}. I can book, move or cancel an appointment. What would you like to do?`,
    genericGreeting: 'Hello, thank you for calling. I can book, move or cancel an appointment. What would you like to do?',
    checking: 'Let me check the calendar.',
    lookingUp: 'Let me find your appointment.',
    askDay: 'Which day would you like? For example, Monday or Tuesday.',
    pickSlot: 'Which would you like?',
    pickSlotAgain: 'Which of those times would you like? For example, the first one.',
    confirmPrefix: 'To confirm:',
    confirmBook: 'Shall I book it?',
    confirmMove: 'Shall I move it?',
    confirmCancel: 'Shall I cancel it?',
    notFound: `I could not find an upcoming appointment for this phone number. ${common.offerHuman}`,
    fallback: 'Sorry, I did not catch that. I can book a new appointment, move your appointment, or cancel it.',
  };

  type Step = 'askDay' | 'pickSlot' | 'confirmSlot' | 'confirmCancel' | 'offerHuman' | 'anythingElse';

  function lastStep(history: readonly Turn[]): Step | undefined {
    const last = lastAgentText(history);
    if (last.includes('Which day would you like')) return 'askDay';
    if (last.endsWith(say.pickSlot) || last.endsWith(say.pickSlotAgain)) return 'pickSlot';
    if (last.startsWith(say.confirmPrefix)) return 'confirmSlot';
    if (last.endsWith(say.confirmCancel)) return 'confirmCancel';
    if (last.endsWith(say.offerHuman)) return 'offerHuman';
    if (last.endsWith(say.anythingElse)) return 'anythingElse';
    return undefined;
  }

  /** What the caller wants now: their latest request, else what the previous workflow said. */
  function modeOf(history: readonly Turn[], userText?: string): Mode {
    const said = [...userTexts(history), ...(userText ? [userText] : [])].reverse();
    for (const text of said) {
      const mode = matchIntent(text, BOOKING_MODE_INTENTS);
      if (mode) return mode;
    }
    const noted = handoffNoteOf(history)?.fields.intent;
    return noted === 'reschedule' || noted === 'cancel' ? noted : 'book';
  }

  /** The caller's appointment, once known: looked up, or handed over by the previous workflow. */
  function existingBooking(history: readonly Turn[]): Booking | null | undefined {
    const found = lastToolOutput<{ booking: Booking | null }>(history, FIND_BOOKING);
    if (found) return found.booking;
    const fields = handoffNoteOf(history)?.fields;
    if (fields?.bookingId && fields.slotId) return { bookingId: fields.bookingId, slot: { id: fields.slotId } };
    return undefined;
  }

  function offeredSlots(history: readonly Turn[]): Slot[] {
    return lastToolOutput<{ slots?: Slot[] }>(history, FIND_FREE_SLOTS)?.slots ?? [];
  }

  function findSlots(userText: string, intent: string): WorkflowReply {
    const day = findDay(userText);
    const weekday = WEEKDAY_NAMES.find((d) => d === day);
    return { text: say.checking, intent, toolRequest: { name: FIND_FREE_SLOTS, args: weekday ? { weekday } : {} } };
  }

  /** Starts what the caller asked for, from the top. */
  function start(mode: Mode, history: readonly Turn[], userText: string): WorkflowReply {
    if (mode === 'book') return findSlots(userText, 'book');
    const booking = existingBooking(history);
    if (booking === undefined) return { text: say.lookingUp, intent: `find_booking_to_${mode}`, toolRequest: { name: FIND_BOOKING, args: {} } };
    return presentBooking(mode, booking, userText);
  }

  function presentBooking(mode: Mode, booking: Booking | null, userText: string): WorkflowReply {
    if (!booking) return { text: say.notFound, intent: 'booking_not_found' };
    const when = describeSlot(booking.slot);
    if (mode === 'cancel') return { text: `You have an appointment on ${when}. ${say.confirmCancel}`, intent: 'confirm_cancel' };
    // A day named with the request ("move it to Thursday") goes straight to the calendar.
    if (findDay(userText)) return findSlots(userText, 'reschedule');
    return { text: `Your appointment is on ${when}. Which day would you like instead? For example, Monday or Tuesday.`, intent: 'reschedule' };
  }

  function afterTool(history: readonly Turn[]): WorkflowReply | undefined {
    const last = history.at(-1);
    if (last?.role !== 'tool') return undefined;
    const mode = modeOf(history);
    switch (last.tool) {
      case FIND_FREE_SLOTS: {
        const { weekday } = lastToolOutput<{ weekday?: string }>(history, FIND_FREE_SLOTS) ?? {};
        const slots = offeredSlots(history);
        if (slots.length === 0) {
          return { text: `Sorry, I have no free times${weekday ? ` on ${weekday}` : ''}. ${say.askDay}`, intent: 'no_slots' };
        }
        return { text: `I have ${listSlots(slots)}. ${say.pickSlot}`, intent: 'offer_slots' };
      }
      case FIND_BOOKING: {
        const lastUser = userTexts(history).at(-1) ?? '';
        return presentBooking(mode, existingBooking(history) ?? null, lastUser);
      }
      case BOOK_SLOT: {
        const result = lastToolOutput<BookingResult>(history, BOOK_SLOT);
        if (result?.ok) return { text: `You are booked for ${describeSlot(result.slot)}. ${say.anythingElse}`, intent: 'booked' };
        return slotGone();
      }
      case RESCHEDULE_BOOKING: {
        const result = lastToolOutput<RescheduleResult>(history, RESCHEDULE_BOOKING);
        if (result?.ok) return { text: `Done. Your appointment is now on ${describeSlot(result.slot)}. ${say.anythingElse}`, intent: 'rescheduled' };
        if (result?.reason === 'unknown_booking') return { text: say.notFound, intent: 'booking_not_found' };
        return slotGone();
      }
      case CANCEL_BOOKING: {
        const result = lastToolOutput<CancelResult>(history, CANCEL_BOOKING);
        if (result?.ok) return { text: `Your appointment on ${describeSlot(result.slot)} is cancelled. ${say.anythingElse}`, intent: 'cancelled' };
        return { text: say.notFound, intent: 'booking_not_found' };
      }
      default:
        return undefined;
    }
  }

  function slotGone(): WorkflowReply {
    return { text: 'Sorry, that time was just taken. Let me look again.', intent: 'slot_taken', toolRequest: { name: FIND_FREE_SLOTS, args: {} } };
  }

  function respond(history: readonly Turn[], userText: string): WorkflowReply {
    const normalized = normalizeUtterance(userText);
    const common = matchCommonIntent(userText);
    const requested = matchIntent(userText, BOOKING_MODE_INTENTS);
    const step = lastStep(history);
    const mode = modeOf(history, userText);

    if (common === 'human') return { text: say.transferring, intent: 'human', action: 'transfer_to_human' };
    if (common === 'goodbye') return { text: say.goodbye, intent: 'goodbye', action: 'end_call' };

    // Answers to the question just asked come before a fresh request: "yes" means something only
    // in the light of what the agent asked. A caller who names a different request switches.
    const switching = requested !== undefined && requested !== 'book' && requested !== modeOf(history);
    if (!switching) {
      if (step === 'askDay' && findDay(userText)) return findSlots(userText, mode);
      if (step === 'pickSlot') {
        const choice = chooseSlot(userText, offeredSlots(history));
        if (choice) {
          const booking = existingBooking(history);
          if (mode === 'reschedule' && booking) {
            return { text: `${say.confirmPrefix} ${describeSlot(choice)} instead of ${describeSlot(booking.slot)}. ${say.confirmMove}`, intent: 'confirm_slot' };
          }
          return { text: `${say.confirmPrefix} ${describeSlot(choice)}. ${say.confirmBook}`, intent: 'confirm_slot' };
        }
        if (findDay(userText)) return findSlots(userText, mode);
        const fact = findAnswer(userText, profile.knowledge);
        if (fact) return { text: `${fact.answer} ${say.pickSlotAgain}`, intent: `faq:${fact.topic}` };
        if (!requested && !NO.test(normalized)) return { text: say.pickSlotAgain, intent: 'offer_slots' };
      }
      // An answer that starts with "yes" is a yes, whatever else the recognizer made of the rest.
      const startsWithYes = YES.test(normalized.split(' ')[0] ?? '');
      if (step === 'confirmSlot' && (YES.test(normalized) && (!requested || startsWithYes))) {
        const chosen = offeredSlots(history).find((slot) => lastAgentText(history).includes(`${say.confirmPrefix} ${describeSlot(slot)}`));
        const booking = existingBooking(history);
        if (chosen && mode === 'reschedule' && booking) {
          return { text: 'One moment.', intent: 'reschedule_booking', toolRequest: { name: RESCHEDULE_BOOKING, args: { bookingId: booking.bookingId, slotId: chosen.id } } };
        }
        if (chosen) return { text: 'One moment.', intent: 'book_slot', toolRequest: { name: BOOK_SLOT, args: { slotId: chosen.id } } };
      }
      if (step === 'confirmSlot' && NO.test(normalized)) return { text: `No problem. ${say.pickSlotAgain}`, intent: 'offer_slots' };
      if (step === 'confirmCancel') {
        const booking = existingBooking(history);
        if (booking && YES.test(normalized) && !NO.test(normalized)) {
          return { text: 'One moment.', intent: 'cancel_booking', toolRequest: { name: CANCEL_BOOKING, args: { bookingId: booking.bookingId } } };
        }
        if (NO.test(normalized)) return { text: `Okay, I have kept your appointment. ${say.anythingElse}`, intent: 'kept_booking' };
      }
      if (step === 'offerHuman' && !requested) {
        if (YES.test(normalized)) return { text: say.transferring, intent: 'human', action: 'transfer_to_human' };
        if (NO.test(normalized)) return { text: `No problem. ${say.anythingElse}`, intent: 'declined_human' };
      }
      if (step === 'anythingElse' && !requested && NO.test(normalized)) {
        return { text: say.goodbye, intent: 'goodbye', action: 'end_call' };
      }
    }

    if (requested) return start(requested, history, userText);
    // "Anything on Friday?" asks for times on that day in whatever the caller is doing.
    if (findDay(userText) && (step === undefined || step === 'anythingElse')) return start(mode, history, userText);
    // A fact asked mid-booking is answered, then the pending question is asked again.
    const fact = findAnswer(userText, profile.knowledge);
    if (fact) {
      const pending = step === 'askDay' ? say.askDay : step === 'pickSlot' ? say.pickSlotAgain : say.anythingElse;
      return { text: `${fact.answer} ${pending}`, intent: `faq:${fact.topic}` };
    }
    if (common === 'thanks') return { text: `You're welcome. ${say.anythingElse}`, intent: 'thanks' };
    // Handed over with a clear purpose: start on it without asking again.
    if (history.every((t) => t.role !== 'assistant') && handoffNoteOf(history)) return start(mode, history, userText);
    if (step === 'askDay') return { text: say.askDay, intent: 'ask_day' };
    if (consecutiveAgentTurns(history, (t) => t === say.fallback || t.startsWith('Sorry, I still')) >= 1) {
      return { text: `Sorry, I still did not understand. ${say.offerHuman}`, intent: 'fallback' };
    }
    return { text: say.fallback, intent: 'fallback' };
  }

  /** The last change the calendar confirmed: a later move or cancel supersedes a booking. */
  function outcome(history: readonly Turn[]): OutcomeFields {
    for (const turn of [...history].reverse()) {
      if (turn.role !== 'tool') continue;
      const result = parseToolOutput<BookingResult | RescheduleResult | CancelResult>(turn);
      if (!result?.ok) continue;
      const { bookingId, slot } = result;
      if (turn.tool === BOOK_SLOT) return { booking: { action: 'booked', bookingId, slotId: slot.id }, resolved: true };
      if (turn.tool === RESCHEDULE_BOOKING && 'replacedBookingId' in result) {
        return { booking: { action: 'rescheduled', bookingId, slotId: slot.id, replacedBookingId: result.replacedBookingId }, resolved: true };
      }
      if (turn.tool === CANCEL_BOOKING) return { booking: { action: 'cancelled', bookingId, slotId: slot.id }, resolved: true };
    }
    return {};
  }

  return {
    name: 'booking',
    tools: BOOKING_TOOLS,
    handoffs: options.handoffs ?? [],
    greeting: () => say.greeting,
    genericGreeting: () => say.genericGreeting,
    respond,
    afterTool,
    outcome,
    silencePrompts: () => ({
      reprompts: ['Are you still there? I can book, move or cancel an appointment.', say.cannotHear],
      goodbye: say.silenceGoodbye,
    }),
  };
}
