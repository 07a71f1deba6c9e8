import { redactSensitive } from '../guardrails/redact.js';
import type { BusinessProfile } from '../receptionist/business-profile.js';
import { lastAgentText, lastToolOutput, userTexts } from '../workflow/history.js';
import { matchIntent, NO, normalizeUtterance, type IntentPattern } from '../workflow/intents.js';
import { parseDigitString } from '../workflow/numbers.js';
import type { OutcomeFields } from '../workflow/outcome.js';
import { callControlReply, commonPhrases } from '../workflow/phrases.js';
import type { Turn, Workflow, WorkflowReply } from '../workflow/types.js';
import { CREATE_TICKET, TICKET_TOOLS, type TicketRequest } from './tickets.js';

/**
 * Support triage: what is wrong (category), how bad (urgency), whose account; then a ticket. An
 * urgent case skips the account question and goes to a person as soon as its ticket exists.
 */

type Category = TicketRequest['category'];

const CATEGORIES: readonly IntentPattern<Category>[] = [
  { name: 'billing', patterns: [/\b(bill|billed|billing|charge|charged|refund|invoice|payment|paid|pay|insurance|price)\b/] },
  { name: 'account', patterns: [/\b(password|log ?in|logged|locked|account|email|username|sign in)\b/] },
  { name: 'technical', patterns: [/\b(not working|doesn't work|does not work|broken|error|crash|crashes|app|website|down|bug|slow)\b/] },
  { name: 'other', patterns: [/\b(toothache|pain|hurts|bleeding|swollen|filling|crown|tooth)\b/] },
];

const URGENT = /\b(urgent|emergency|asap|right now|immediately|severe|pain|bleeding|swollen|outage|down|critical|can't work|cannot work)\b/;

export function createSupportTriageWorkflow(profile: BusinessProfile, options: { handoffs?: readonly string[] } = {}): Workflow {
  const common = commonPhrases(profile.name);
  const say = {
    ...common,
    greeting: `Thank you for calling ${profile.name} support. Please tell me briefly what the problem is.`,
    genericGreeting: 'Hello, thank you for calling support. Please tell me briefly what the problem is.',
    moreDetail: 'Could you tell me a little more about the problem?',
    askAccount: "What is your account number? You can read me the digits, or say you don't have one.",
    accountAgain: "Sorry, I did not get that. Please read the account number digit by digit, or say you don't have one.",
    creating: 'Thank you. I am creating a ticket for you now.',
    urgent: 'That sounds urgent. I am creating a ticket and connecting you to a member of our team right away.',
  };

  /** The caller's description of the problem: what they said before any account question. */
  function problemText(history: readonly Turn[], userText?: string): string {
    const said: string[] = [];
    let asked = '';
    for (const turn of [...history, ...(userText === undefined ? [] : [{ role: 'user' as const, text: userText }])]) {
      if (turn.role === 'assistant') asked = turn.text;
      if (turn.role === 'user' && !asked.startsWith('What is your account') && !asked.startsWith('Sorry, I did not get that. Please read')) {
        said.push(turn.text);
      }
    }
    return said.join(' ');
  }

  function triage(problem: string): Pick<TicketRequest, 'category' | 'urgency'> {
    return {
      category: matchIntent(problem, CATEGORIES) ?? 'other',
      urgency: URGENT.test(normalizeUtterance(problem)) ? 'urgent' : 'normal',
    };
  }

  function ticketRequest(history: readonly Turn[], userText: string, account?: string): WorkflowReply['toolRequest'] {
    const problem = problemText(history, userText);
    const args: TicketRequest = {
      ...triage(problem),
      summary: redactSensitive(problem).slice(0, 300) || 'caller did not describe the problem',
      ...(account ? { account } : {}),
    };
    return { name: CREATE_TICKET, args };
  }

  function respond(history: readonly Turn[], userText: string): WorkflowReply {
    const normalized = normalizeUtterance(userText);
    const last = lastAgentText(history);
    const control = callControlReply(userText, last, say);
    if (control) return control;

    if (last === say.askAccount || last === say.accountAgain) {
      const account = parseDigitString(userText);
      const none = NO.test(normalized) || /\b(don't|do not|dont) (have|know)\b/.test(normalized);
      if (account || none || last === say.accountAgain) {
        return { text: say.creating, intent: 'create_ticket', toolRequest: ticketRequest(history, '', account) };
      }
      return { text: say.accountAgain, intent: 'ask_account_again' };
    }

    // Anything else is (more of) the problem description.
    const problem = problemText(history, userText);
    const { category, urgency } = triage(problem);
    if (urgency === 'urgent') return { text: say.urgent, intent: 'urgent', toolRequest: ticketRequest(history, userText) };
    const described = matchIntent(problem, CATEGORIES) !== undefined || normalizeUtterance(problem).split(' ').length >= 6;
    if (!described && last !== say.moreDetail) return { text: say.moreDetail, intent: 'ask_detail' };
    return { text: say.askAccount, intent: `triaged:${category}` };
  }

  /** The account number the caller read out in answer to the account question. */
  function accountOf(history: readonly Turn[]): string | undefined {
    let asked = '';
    for (const turn of history) {
      if (turn.role === 'assistant') asked = turn.text;
      else if (turn.role === 'user' && (asked === say.askAccount || asked === say.accountAgain)) {
        const account = parseDigitString(turn.text);
        if (account) return account;
      }
    }
    return undefined;
  }

  function afterTool(history: readonly Turn[]): WorkflowReply | undefined {
    if (history.at(-1)?.tool !== CREATE_TICKET) return undefined;
    const ticket = lastToolOutput<{ ticketId?: string }>(history, CREATE_TICKET);
    const spoken = ticket?.ticketId ? spell(ticket.ticketId) : undefined;
    const urgent = triage(problemText(history)).urgency === 'urgent';
    if (urgent) {
      return {
        text: spoken ? `Your ticket number is ${spoken}. ${say.transferring}` : say.transferring,
        intent: 'escalate',
        action: 'transfer_to_human',
      };
    }
    if (!spoken) return { text: `Sorry, I could not create the ticket. ${say.offerHuman}`, intent: 'ticket_failed' };
    return { text: `Your ticket number is ${spoken}. Our team will get back to you within one business day. ${say.anythingElse}`, intent: 'ticket_created' };
  }

  function outcome(history: readonly Turn[]): OutcomeFields {
    if (userTexts(history).length === 0) return {};
    const created = lastToolOutput<{ ticketId?: string }>(history, CREATE_TICKET);
    const { category, urgency } = triage(problemText(history));
    return {
      ticket: { ticketId: created?.ticketId, category, urgency, account: accountOf(history), escalated: urgency === 'urgent' },
      resolved: created?.ticketId !== undefined,
    };
  }

  return {
    name: 'support_triage',
    tools: TICKET_TOOLS,
    handoffs: options.handoffs ?? [],
    greeting: () => say.greeting,
    genericGreeting: () => say.genericGreeting,
    respond,
    afterTool,
    outcome,
    silencePrompts: () => ({
      reprompts: ['Are you still there? Please tell me what the problem is, or say person to talk to our team.', say.cannotHear],
      goodbye: say.silenceGoodbye,
    }),
  };
}

/** "TK-482913" -> "T K 4 8 2 9 1 3": read out one character at a time. */
function spell(id: string): string {
  return id.replace(/[^A-Za-z0-9]/g, '').split('').join(' ');
}
