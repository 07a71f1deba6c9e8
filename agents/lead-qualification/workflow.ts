import { redactSensitive } from '../guardrails/redact.js';
import type { BusinessProfile } from '../receptionist/business-profile.js';
import { lastAgentText } from '../workflow/history.js';
import { NO, normalizeUtterance } from '../workflow/intents.js';
import { parseAmount } from '../workflow/numbers.js';
import type { OutcomeFields } from '../workflow/outcome.js';
import { callControlReply, commonPhrases } from '../workflow/phrases.js';
import type { Turn, Workflow, WorkflowReply } from '../workflow/types.js';
import { scoreLead, type LeadFields } from './score.js';

/**
 * Lead qualification: need, budget, authority, timeline and a name, one short question each, in
 * that order. An answer it cannot read is asked once more, then skipped: a caller is never stuck
 * on a question, and a missing field only lowers the score.
 */

type Field = 'need' | 'budget' | 'authority' | 'timeline' | 'name';
const ORDER: readonly Field[] = ['need', 'budget', 'authority', 'timeline', 'name'];

const QUESTIONS: Record<Field, string> = {
  need: 'What are you looking for?',
  budget: 'Roughly what budget do you have in mind?',
  authority: 'Will you make the decision yourself, or does someone else need to approve it?',
  timeline: 'When would you like to get started?',
  name: 'And may I have your name?',
};

const SKIP = /\b(rather not|prefer not|skip|not sure|no idea|don't know|do not know|no comment|pass)\b/;

export interface LeadQualificationOptions {
  handoffs?: readonly string[];
  /** A budget at or above this counts fully towards the score. */
  minBudget?: number;
}

export function createLeadQualificationWorkflow(profile: BusinessProfile, options: LeadQualificationOptions = {}): Workflow {
  const minBudget = options.minBudget ?? 1000;
  const common = commonPhrases(profile.name);
  const intro = "I'd like to ask a few quick questions so the right person can call you back.";
  const say = {
    ...common,
    greeting: `Thank you for calling ${profile.name}. ${intro} ${QUESTIONS.need}`,
    genericGreeting: `Hello, thank you for calling. ${intro} ${QUESTIONS.need}`,
    again: 'Sorry, I did not get that.',
    moveOn: "No problem, let's move on.",
  };

  /** The question an agent turn asked, read from its fixed wording. */
  function questionOf(text: string): Field | undefined {
    return ORDER.find((field) => text.endsWith(QUESTIONS[field]));
  }

  function parse(field: Field, answer: string): LeadFields[Field] | undefined {
    const normalized = normalizeUtterance(answer);
    switch (field) {
      case 'need':
        return normalized.split(' ').length >= 2 ? redactSensitive(answer.trim()).slice(0, 160) : undefined;
      case 'budget':
        return parseAmount(answer);
      case 'authority':
        if (/\b(someone else|my (boss|manager|partner|wife|husband|team)|the board|approve|approval|not me)\b/.test(normalized)) return false;
        if (/\b(i decide|i make|decision maker|my decision|up to me|i do|i will|i'll|myself|me|i am the|i'm the|owner|yes)\b/.test(normalized)) return true;
        if (NO.test(normalized)) return false;
        return undefined;
      case 'timeline':
        if (/\b(now|asap|as soon as possible|immediately|right away|today|this week|tomorrow)\b/.test(normalized)) return 'now';
        if (/\b(this month|next week|few weeks|couple of weeks|two weeks)\b/.test(normalized)) return 'this_month';
        if (/\b(next month|few months|couple of months|this quarter|next quarter|this summer|this spring|this fall)\b/.test(normalized)) return 'this_quarter';
        if (/\b(next year|later|someday|eventually|just looking|no rush)\b/.test(normalized)) return 'later';
        return undefined;
      case 'name': {
        const match = normalized.match(/\b(?:my name is|name's|this is|i am|i'm|it's|it is|call me)\s+([a-z' ]+)/);
        const words = (match?.[1] ?? normalized).split(' ').filter((w) => w && !/^(and|yes|sure|okay|ok|it|is|hi|hello)$/.test(w));
        if (words.length === 0 || words.length > 3) return undefined;
        return words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join(' ');
      }
    }
  }

  /** Walks the transcript: each caller turn answers the question asked just before it. */
  function collect(history: readonly Turn[], userText?: string) {
    const fields: LeadFields = {};
    const settled = new Set<Field>();
    const attempts = new Map<Field, number>();
    const turns = userText === undefined ? history : [...history, { role: 'user' as const, text: userText }];
    let asked: Field | undefined = 'need';
    for (const turn of turns) {
      if (turn.role === 'assistant') asked = questionOf(turn.text);
      if (turn.role !== 'user' || !asked) continue;
      const field = asked;
      asked = undefined;
      const value = parse(field, turn.text);
      const tries = (attempts.get(field) ?? 0) + 1;
      attempts.set(field, tries);
      if (value !== undefined) (fields as Record<Field, unknown>)[field] = value;
      if (value !== undefined || tries >= 2 || SKIP.test(normalizeUtterance(turn.text))) settled.add(field);
    }
    return { fields, settled, attempts };
  }

  function respond(history: readonly Turn[], userText: string): WorkflowReply {
    const last = lastAgentText(history);
    const control = callControlReply(userText, last, say);
    if (control) return control;
    if (last.endsWith(say.anythingElse)) return { text: `Thank you, I have noted that for our team. ${say.anythingElse}`, intent: 'noted' };

    // Handed over mid-sentence, the caller's first words are their need.
    const asked = questionOf(last) ?? (last === '' ? 'need' : undefined);
    const { fields, settled } = collect(history, userText);
    const next = ORDER.find((field) => !settled.has(field));
    if (asked && next === asked) return { text: `${say.again} ${QUESTIONS[asked]}`, intent: `lead_${asked}_again` };
    if (next) {
      const lead = asked && !(asked in fields) ? `${say.moveOn} ` : '';
      return { text: `${lead}${QUESTIONS[next]}`, intent: `lead_${next}` };
    }
    const thanks = fields.name ? `Thank you, ${fields.name}.` : 'Thank you.';
    return {
      text: `${thanks} A member of our team will call you back within one business day. ${say.anythingElse}`,
      intent: 'lead_captured',
    };
  }

  function outcome(history: readonly Turn[]): OutcomeFields {
    const { fields, settled } = collect(history);
    if (settled.size === 0) return {};
    const { score, qualified } = scoreLead(fields, minBudget);
    const { name, ...rest } = fields;
    return {
      lead: { ...rest, contactName: name, score, qualified },
      resolved: ORDER.every((f) => settled.has(f)),
    };
  }

  return {
    name: 'lead_qualification',
    tools: [],
    handoffs: options.handoffs ?? [],
    greeting: () => say.greeting,
    genericGreeting: () => say.genericGreeting,
    respond,
    outcome,
    silencePrompts: () => ({
      reprompts: ['Are you still there? I just need a few details so our team can call you back.', say.cannotHear],
      goodbye: say.silenceGoodbye,
    }),
  };
}
