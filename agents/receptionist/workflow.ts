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
    askDay: 'I can help you book an appointment. What day works best for you?',
    askDayAgain: 'Which day would you like? For example, Monday or Tuesday.',
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
      case 'book': {
        const day = findDay(userText);
        return day ? confirmDay(day) : { text: say.askDay, intent };
      }
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

  function confirmDay(day: string): WorkflowReply {
    const when = day === 'tomorrow' || day === 'today' ? day : `on ${day}`;
    return withAnythingElse(
      `I have noted an appointment request for ${when}. Our team will call you back to confirm the exact time.`,
      'book_day',
    );
  }

  /** Which question the agent last asked, read back from its fixed wording. */
  function lastStep(history: readonly Turn[]): 'askDay' | 'offerHuman' | 'anythingElse' | undefined {
    const last = [...history].reverse().find((t) => t.role === 'assistant')?.text ?? '';
    if (last.endsWith(say.askDay) || last.endsWith(say.askDayAgain)) return 'askDay';
    if (last.endsWith(say.offerHuman)) return 'offerHuman';
    if (last.endsWith(say.anythingElse)) return 'anythingElse';
    return undefined;
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
      if (step === 'askDay' && !intent) {
        const day = findDay(userText);
        if (day) return confirmDay(day);
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
