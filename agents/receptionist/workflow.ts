import { describeSlot, type BookingResult, type Slot } from '../booking/calendar.js';
import { chooseSlot, listSlots } from '../booking/slot-choice.js';
import { BOOK_SLOT, FIND_FREE_SLOTS, WEEKDAY_NAMES } from '../booking/tools.js';
import { findDay, matchIntent, NO, normalizeUtterance, YES, type IntentPattern } from '../workflow/intents.js';
import type { Turn, Workflow, WorkflowReply } from '../workflow/types.js';
import type { BusinessProfile } from './business-profile.js';

/**
 * The receptionist: greets, recognises what the caller wants, answers from the business profile
 * and offers a person. Replies are fixed sentences so that the step a call is at can be read back
 * from the last thing the agent said (see `lastStep`).
 */

type Intent =
  | 'human'
  | 'cancel'
  | 'reschedule'
  | 'book'
  | 'hours'
  | 'location'
  | 'prices'
  | 'goodbye'
  | 'thanks';

const INTENTS: readonly IntentPattern<Intent>[] = [
  {
    name: 'human',
    patterns: [
      /\b(person|human|someone|somebody|representative|operator|receptionist|staff|real people)\b/,
      /\b(talk|speak) (to|with) (a|an|the|your|some)\b/,
    ],
  },
  { name: 'cancel', patterns: [/\bcancel/] },
  { name: 'reschedule', patterns: [/\breschedul/, /\b(change|move) (my|the|an|our) (appointment|booking)\b/] },
  // Price questions often name a service ("how much is a cleaning"), so they rank above booking.
  { name: 'prices', patterns: [/\b(price|prices|cost|costs|how much|fee|fees|charge|insurance)\b/] },
  { name: 'book', patterns: [/\b(book|booking|appointment|schedule|reserve|check ?up|cleaning|visit)\b/] },
  { name: 'hours', patterns: [/\b(hours|open|opening|close|closing|closed)\b/] },
  { name: 'location', patterns: [/\b(where|address|located|location|directions|find you)\b/] },
  { name: 'goodbye', patterns: [/\b(bye|goodbye|good bye|hang up)\b/] },
  { name: 'thanks', patterns: [/\b(thank|thanks)\b/] },
];

export function createReceptionistWorkflow(profile: BusinessProfile): Workflow {
  const say = {
    greeting: `Thank you for calling ${profile.name}. How can I help you today?`,
    genericGreeting: `Hello, thank you for calling. How can I help you today?`,
    anythingElse: 'Is there anything else I can help you with?',
    checking: 'Let me check the calendar.',
    askDayAgain: 'Which day would you like? For example, Monday or Tuesday.',
    pickSlot: 'Which would you like?',
    pickSlotAgain: 'Which of those times would you like? For example, the first one.',
    confirmPrefix: 'To confirm:',
    confirmSuffix: 'Shall I book it?',
    offerHuman: 'Would you like me to connect you to a member of our team?',
    transferring: 'Of course. Please hold while I connect you to a member of our team.',
    goodbye: `Thank you for calling ${profile.name}. Goodbye!`,
    fallback:
      'Sorry, I did not catch that. I can book an appointment, tell you our opening hours, our address or our prices, or connect you to a person.',
  };

  const withAnythingElse = (text: string, intent: string): WorkflowReply => ({
    text: `${text} ${say.anythingElse}`,
    intent,
  });

  function answerIntent(intent: Intent | undefined, userText: string): WorkflowReply | undefined {
    switch (intent) {
      case 'human':
        return { text: say.transferring, intent, action: 'transfer_to_human' };
      case 'cancel':
        return {
          text: `I can't change bookings myself yet, so I'll pass you to our team. ${say.offerHuman}`,
          intent,
        };
      case 'reschedule':
        return { text: `Sure, let's find a new time. ${say.askDayAgain}`, intent };
      case 'book':
        return findSlots(userText);
      case 'hours':
        return withAnythingElse(profile.hours, intent);
      case 'location':
        return withAnythingElse(profile.address, intent);
      case 'prices':
        return withAnythingElse(profile.prices, intent);
      case 'goodbye':
        return { text: say.goodbye, intent, action: 'end_call' };
      case 'thanks':
        return { text: `You're welcome. ${say.anythingElse}`, intent };
      default:
        return undefined;
    }
  }

  /** Asks the calendar for free times, on the weekday the caller named if any. */
  function findSlots(userText: string): WorkflowReply {
    const day = findDay(userText);
    const weekday = WEEKDAY_NAMES.find((d) => d === day);
    return {
      text: say.checking,
      intent: 'book',
      toolRequest: { name: FIND_FREE_SLOTS, args: weekday ? { weekday } : {} },
    };
  }

  /** The slots most recently read out to the caller. */
  function offeredSlots(history: readonly Turn[]): Slot[] {
    const found = [...history].reverse().find((t) => t.role === 'tool' && t.tool === FIND_FREE_SLOTS);
    if (!found) return [];
    try {
      return (JSON.parse(found.text) as { slots?: Slot[] }).slots ?? [];
    } catch {
      return [];
    }
  }

  function afterTool(history: readonly Turn[]): WorkflowReply | undefined {
    const last = history.at(-1);
    if (last?.role !== 'tool') return undefined;
    if (last.tool === FIND_FREE_SLOTS) {
      const { weekday } = JSON.parse(last.text) as { weekday?: string };
      const slots = offeredSlots(history);
      if (slots.length === 0) {
        return { text: `Sorry, I have no free times${weekday ? ` on ${weekday}` : ''}. ${say.askDayAgain}`, intent: 'no_slots' };
      }
      return { text: `I have ${listSlots(slots)}. ${say.pickSlot}`, intent: 'offer_slots' };
    }
    if (last.tool === BOOK_SLOT) {
      const result = JSON.parse(last.text) as BookingResult;
      if (result.ok) return withAnythingElse(`You are booked for ${describeSlot(result.slot)}.`, 'booked');
      return {
        text: 'Sorry, that time was just taken. Let me look again.',
        intent: 'slot_taken',
        toolRequest: { name: FIND_FREE_SLOTS, args: {} },
      };
    }
    return undefined;
  }

  /** Which question the agent last asked, read back from its fixed wording. */
  function lastStep(
    history: readonly Turn[],
  ): 'askDay' | 'pickSlot' | 'confirmSlot' | 'offerHuman' | 'anythingElse' | undefined {
    const last = lastAgentText(history);
    if (last.endsWith(say.askDayAgain)) return 'askDay';
    if (last.endsWith(say.pickSlot) || last.endsWith(say.pickSlotAgain)) return 'pickSlot';
    if (last.startsWith(say.confirmPrefix)) return 'confirmSlot';
    if (last.endsWith(say.offerHuman)) return 'offerHuman';
    if (last.endsWith(say.anythingElse)) return 'anythingElse';
    return undefined;
  }

  function lastAgentText(history: readonly Turn[]): string {
    return [...history].reverse().find((t) => t.role === 'assistant')?.text ?? '';
  }

  function consecutiveFallbacks(history: readonly Turn[]): number {
    let count = 0;
    for (const turn of [...history].reverse()) {
      if (turn.role !== 'assistant') continue;
      if (turn.text !== say.fallback && !turn.text.startsWith('Sorry, I still')) break;
      count += 1;
    }
    return count;
  }

  return {
    name: 'receptionist',
    greeting: () => say.greeting,
    genericGreeting: () => say.genericGreeting,
    afterTool,
    silencePrompts: () => ({
      reprompts: [
        'Are you still there? I can book an appointment, or tell you our hours, address or prices.',
        "Sorry, I can't hear you. If you are speaking, please move closer to your phone.",
      ],
      goodbye: `I will end the call now. Please call ${profile.name} back any time. Goodbye!`,
    }),
    respond(history, userText) {
      const intent = matchIntent(userText, INTENTS);
      const step = lastStep(history);
      const normalized = normalizeUtterance(userText);

      // Answers to the question just asked come before a fresh intent: "yes" means something
      // only in the light of what the agent asked.
      if (step === 'askDay' && !intent && findDay(userText)) return findSlots(userText);
      if (step === 'pickSlot' && (!intent || intent === 'book')) {
        const offered = offeredSlots(history);
        const choice = chooseSlot(userText, offered);
        if (choice) return { text: `${say.confirmPrefix} ${describeSlot(choice)}. ${say.confirmSuffix}`, intent: 'confirm_slot' };
        if (findDay(userText)) return findSlots(userText);
        return { text: say.pickSlotAgain, intent: 'offer_slots' };
      }
      // An answer that starts with "yes" is a yes here, whatever else the recognizer made of the
      // rest ("yes, book it" also names the booking intent).
      const startsWithYes = YES.test(normalized.split(' ')[0] ?? '');
      if (step === 'confirmSlot' && (!intent || intent === 'book' || startsWithYes)) {
        const confirming = offeredSlots(history).find((slot) => lastAgentText(history).includes(describeSlot(slot)));
        if (confirming && YES.test(normalized)) {
          return { text: 'One moment.', intent: 'book_slot', toolRequest: { name: BOOK_SLOT, args: { slotId: confirming.id } } };
        }
        if (NO.test(normalized)) return { text: `No problem. ${say.pickSlotAgain}`, intent: 'offer_slots' };
      }
      if (step === 'offerHuman' && !intent) {
        if (YES.test(normalized)) return { text: say.transferring, intent: 'human', action: 'transfer_to_human' };
        if (NO.test(normalized)) return { text: `No problem. ${say.anythingElse}`, intent: 'declined_human' };
      }
      if (step === 'anythingElse' && !intent && NO.test(normalized)) {
        return { text: say.goodbye, intent: 'goodbye', action: 'end_call' };
      }

      const answer = answerIntent(intent, userText);
      if (answer) return answer;

      if (step === 'askDay') return { text: say.askDayAgain, intent: 'book' };
      if (consecutiveFallbacks(history) >= 1) {
        return { text: `Sorry, I still did not understand. ${say.offerHuman}`, intent: 'fallback' };
      }
      return { text: say.fallback, intent: 'fallback' };
    },
  };
}
