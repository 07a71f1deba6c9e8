import { matchIntent, NO, normalizeUtterance, YES, type IntentPattern } from './intents.js';
import type { WorkflowReply } from './types.js';

/**
 * Sentences every workflow shares. They are fixed so that a workflow can read the step a call is
 * at back from the last thing the agent said, and so the caller hears one voice across handoffs.
 */
export function commonPhrases(businessName: string) {
  return {
    anythingElse: 'Is there anything else I can help you with?',
    offerHuman: 'Would you like me to connect you to a member of our team?',
    transferring: 'Of course. Please hold while I connect you to a member of our team.',
    goodbye: `Thank you for calling ${businessName}. Goodbye!`,
    silenceGoodbye: `I will end the call now. Please call ${businessName} back any time. Goodbye!`,
    cannotHear: "Sorry, I can't hear you. If you are speaking, please move closer to your phone.",
  };
}

export type CommonIntent = 'human' | 'goodbye' | 'thanks';

/** Intents that mean the same in every workflow and step. */
export const COMMON_INTENTS: readonly IntentPattern<CommonIntent>[] = [
  {
    name: 'human',
    patterns: [
      /\b(person|human|someone|somebody|representative|operator|receptionist|staff|real people|agent)\b/,
      /\b(talk|speak) (to|with) (a|an|the|your|some)\b/,
    ],
  },
  { name: 'goodbye', patterns: [/\b(bye|goodbye|good bye|hang up)\b/] },
  { name: 'thanks', patterns: [/\b(thank|thanks)\b/] },
];

export function matchCommonIntent(text: string): CommonIntent | undefined {
  return matchIntent(text, COMMON_INTENTS);
}

/** The call-control tools every workflow may ask for, by the names the worker installs them under. */
export const TRANSFER_TO_HUMAN = 'transfer_to_human';
export const END_CALL = 'end_call';
export const HANDOFF_TO_WORKFLOW = 'handoff_to_workflow';

/** Said by an agent taking over a call whose agent died, before it repeats the last question. */
export const RESUME_APOLOGY = 'Sorry about that, we were cut off for a moment.';
/** Said by the call supervisor when no agent could take the call (no worker free, none took it back). */
export const NO_AGENT_APOLOGY = 'I am sorry, none of our agents can take your call right now.';

/** Said over dead air while an answer is slow to come (a provider failing over). */
export const HOLDING_PHRASE = 'One moment, please.';

/** What the caller hears when no person can be reached: a promised callback, never dead air. */
export const TRANSFER_FAILED =
  'I am sorry, no one from our team can take your call right now. I have asked them to call you back as soon as possible. Is there anything else I can help you with?';

/**
 * The replies every step of a workflow gives alike: a person on request, goodbye on goodbye, and
 * the answer to "anything else?". Undefined when the workflow's own step decides.
 */
export function callControlReply(
  userText: string,
  lastAgentText: string,
  say: ReturnType<typeof commonPhrases>,
): WorkflowReply | undefined {
  const commonIntent = matchCommonIntent(userText);
  if (commonIntent === 'human') return { text: say.transferring, intent: 'human', action: 'transfer_to_human' };
  if (commonIntent === 'goodbye') return { text: say.goodbye, intent: 'goodbye', action: 'end_call' };
  if (!lastAgentText.endsWith(say.anythingElse)) return undefined;
  const normalized = normalizeUtterance(userText);
  if (NO.test(normalized) || commonIntent === 'thanks') return { text: say.goodbye, intent: 'goodbye', action: 'end_call' };
  if (YES.test(normalized) && normalized.split(' ').length <= 3) return { text: 'Sure, what else can I help with?', intent: 'anything_else' };
  return undefined;
}

/** What a caller hears while every agent is busy, and when the wait ends without one. */
export function overflowPhrases(businessName: string) {
  return {
    welcome: `Thank you for calling ${businessName}. All of our agents are busy right now. Please stay on the line: calls are answered in the order they arrive.`,
    position: (n: number) => (n === 1 ? 'You are next in line.' : `You are number ${n} in line.`),
    callback: 'I am sorry for the wait. We will call you back at this number as soon as someone is free. Goodbye.',
    voicemail: 'I am sorry for the wait. Please leave your name, your number and a short message after the tone, then hang up.',
    voicemailSaved: 'Thank you. Your message has been saved. Goodbye.',
    transferring: 'I am sorry for the wait. Let me put you through to a member of our team.',
  };
}
