import { BOOKING_MODE_INTENTS } from '../booking/workflow.js';
import { answeredTopics, findAnswer } from '../knowledge/knowledge.js';
import { consecutiveAgentTurns, lastAgentText } from '../workflow/history.js';
import { matchIntent, NO, normalizeUtterance, YES, type IntentPattern } from '../workflow/intents.js';
import type { OutcomeFields } from '../workflow/outcome.js';
import { commonPhrases, matchCommonIntent } from '../workflow/phrases.js';
import type { Turn, Workflow, WorkflowReply } from '../workflow/types.js';
import type { BusinessProfile } from './business-profile.js';

/**
 * Inbound routing: greets, answers simple facts from the business's knowledge, and hands the call
 * to the workflow that owns the caller's need (appointments, support, sales) with what is known.
 * What it may hand to is the deployment's choice; anything else goes to a person.
 */

type Route = 'booking' | 'support_triage' | 'lead_qualification';

const ROUTES: readonly IntentPattern<Route>[] = [
  {
    name: 'support_triage',
    patterns: [
      /\b(problem|issue|broken|not working|doesn't work|does not work|error|complaint|complain)\b/,
      /\b(bill|billing|charged|refund|invoice|password|log ?in|locked)\b/,
      /\b(toothache|pain|hurts|emergency|urgent|bleeding|swollen)\b/,
    ],
  },
  {
    name: 'lead_qualification',
    patterns: [/\b(quote|interested in|sign up|signing up|purchase|buy|demo|sales|for my (company|business|team|employees|staff))\b/],
  },
];

const HANDOFF_LINES: Record<Route, string> = {
  booking: 'Sure, I can help with your appointment.',
  support_triage: "I'm sorry to hear that. Let me take down the details.",
  lead_qualification: "Great, I'd be glad to help.",
};

export function createReceptionistWorkflow(profile: BusinessProfile, options: { handoffs?: readonly string[] } = {}): Workflow {
  const handoffs = options.handoffs ?? [];
  const common = commonPhrases(profile.name);
  const say = {
    ...common,
    greeting: `Thank you for calling ${profile.name}. How can I help you today?`,
    genericGreeting: 'Hello, thank you for calling. How can I help you today?',
    askQuestion: 'Of course. What would you like to know?',
    notHere: `I can't help with that myself, but a member of our team can. ${common.offerHuman}`,
    fallback:
      'Sorry, I did not catch that. I can help with appointments, answer questions about us, or connect you to a person.',
  };

  type Step = 'offerHuman' | 'anythingElse';

  function lastStep(history: readonly Turn[]): Step | undefined {
    const last = lastAgentText(history);
    if (last.endsWith(say.offerHuman)) return 'offerHuman';
    if (last.endsWith(say.anythingElse)) return 'anythingElse';
    return undefined;
  }

  function route(to: Route, intent: string): WorkflowReply {
    if (!handoffs.includes(to)) return { text: say.notHere, intent: `unrouted:${to}` };
    return { text: HANDOFF_LINES[to], intent: `handoff:${to}`, handoff: { to, reason: `caller asked about ${intent}`, fields: { intent } } };
  }

  function respond(history: readonly Turn[], userText: string): WorkflowReply {
    const normalized = normalizeUtterance(userText);
    const commonIntent = matchCommonIntent(userText);
    const step = lastStep(history);

    if (commonIntent === 'human') return { text: say.transferring, intent: 'human', action: 'transfer_to_human' };
    const appointment = matchIntent(userText, BOOKING_MODE_INTENTS);
    if (appointment && appointment !== 'book') return route('booking', appointment);
    const need = matchIntent(userText, ROUTES);
    if (need) return route(need, need === 'support_triage' ? 'support' : 'sales');
    // A question that names a service ("how much is a cleaning") is a question, not a booking.
    const fact = findAnswer(userText, profile.knowledge);
    if (fact) return { text: `${fact.answer} ${say.anythingElse}`, intent: `faq:${fact.topic}` };
    if (appointment) return route('booking', appointment);

    if (step === 'offerHuman') {
      if (YES.test(normalized)) return { text: say.transferring, intent: 'human', action: 'transfer_to_human' };
      if (NO.test(normalized)) return { text: `No problem. ${say.anythingElse}`, intent: 'declined_human' };
    }
    if (commonIntent === 'goodbye' || (step === 'anythingElse' && NO.test(normalized))) {
      return { text: say.goodbye, intent: 'goodbye', action: 'end_call' };
    }
    if (commonIntent === 'thanks') return { text: `You're welcome. ${say.anythingElse}`, intent: 'thanks' };
    if (/\b(question|ask|wondering|information|know)\b/.test(normalized)) return { text: say.askQuestion, intent: 'question' };
    if (consecutiveAgentTurns(history, (t) => t === say.fallback || t.startsWith('Sorry, I still')) >= 1) {
      return { text: `Sorry, I still did not understand. ${say.offerHuman}`, intent: 'fallback' };
    }
    return { text: say.fallback, intent: 'fallback' };
  }

  function outcome(history: readonly Turn[]): OutcomeFields {
    const answered = answeredTopics(history.filter((t) => t.role === 'assistant').map((t) => t.text), profile.knowledge);
    return answered.length > 0 ? { faq: { answered, unanswered: 0 }, resolved: true } : {};
  }

  return {
    name: 'receptionist',
    tools: [],
    handoffs,
    greeting: () => say.greeting,
    genericGreeting: () => say.genericGreeting,
    respond,
    outcome,
    silencePrompts: () => ({
      reprompts: ['Are you still there? I can help with appointments, answer questions, or connect you to a person.', say.cannotHear],
      goodbye: say.silenceGoodbye,
    }),
  };
}
