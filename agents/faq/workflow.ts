import { answeredTopics, findAnswer } from '../knowledge/knowledge.js';
import type { BusinessProfile } from '../receptionist/business-profile.js';
import { lastAgentText } from '../workflow/history.js';
import { NO, normalizeUtterance, YES } from '../workflow/intents.js';
import type { OutcomeFields } from '../workflow/outcome.js';
import { commonPhrases, matchCommonIntent } from '../workflow/phrases.js';
import type { Turn, Workflow, WorkflowReply } from '../workflow/types.js';

/**
 * Answers questions from the deployment's knowledge and nothing else. A question it has no entry
 * for gets "I don't know" and the offer of a person: never a guess.
 */
export function createFaqWorkflow(profile: BusinessProfile, options: { handoffs?: readonly string[] } = {}): Workflow {
  const common = commonPhrases(profile.name);
  const say = {
    ...common,
    greeting: `Thank you for calling ${profile.name}. What would you like to know?`,
    genericGreeting: 'Hello, thank you for calling. What would you like to know?',
    unknown: `I'm sorry, I don't have that information. ${common.offerHuman}`,
    anotherQuestion: 'Sure. What would you like to know?',
  };

  function respond(history: readonly Turn[], userText: string): WorkflowReply {
    const normalized = normalizeUtterance(userText);
    const commonIntent = matchCommonIntent(userText);
    const last = lastAgentText(history);

    if (commonIntent === 'human') return { text: say.transferring, intent: 'human', action: 'transfer_to_human' };
    const fact = findAnswer(userText, profile.knowledge);
    if (fact) return { text: `${fact.answer} ${say.anythingElse}`, intent: `faq:${fact.topic}` };
    if (commonIntent === 'goodbye') return { text: say.goodbye, intent: 'goodbye', action: 'end_call' };

    if (last.endsWith(say.offerHuman)) {
      if (YES.test(normalized) && !NO.test(normalized)) return { text: say.transferring, intent: 'human', action: 'transfer_to_human' };
      if (NO.test(normalized)) return { text: `No problem. ${say.anythingElse}`, intent: 'declined_human' };
    }
    if (last.endsWith(say.anythingElse)) {
      if (NO.test(normalized)) return { text: say.goodbye, intent: 'goodbye', action: 'end_call' };
      if (YES.test(normalized) && normalized.split(' ').length <= 3) return { text: say.anotherQuestion, intent: 'question' };
    }
    if (commonIntent === 'thanks') return { text: `You're welcome. ${say.anythingElse}`, intent: 'thanks' };
    return { text: say.unknown, intent: 'faq_unknown' };
  }

  function outcome(history: readonly Turn[]): OutcomeFields {
    const spoken = history.filter((t) => t.role === 'assistant').map((t) => t.text);
    const answered = answeredTopics(spoken, profile.knowledge);
    const unanswered = spoken.filter((text) => text === say.unknown).length;
    if (answered.length === 0 && unanswered === 0) return {};
    return { faq: { answered, unanswered }, resolved: answered.length > 0 && unanswered === 0 };
  }

  return {
    name: 'faq',
    tools: [],
    handoffs: options.handoffs ?? [],
    greeting: () => say.greeting,
    genericGreeting: () => say.genericGreeting,
    respond,
    outcome,
    silencePrompts: () => ({
      reprompts: ['Are you still there? You can ask me about our hours, address or prices.', say.cannotHear],
      goodbye: say.silenceGoodbye,
    }),
  };
}
