import { describeSlot, type Booking } from '../booking/calendar.js';
import type { BusinessProfile } from '../receptionist/business-profile.js';
import { lastAgentText } from '../workflow/history.js';
import { matchIntent, NO, normalizeUtterance, YES } from '../workflow/intents.js';
import type { CallOutcome, OutcomeFields } from '../workflow/outcome.js';
import { commonPhrases, matchCommonIntent } from '../workflow/phrases.js';
import type { Turn, Workflow, WorkflowReply } from '../workflow/types.js';
import { BOOKING_MODE_INTENTS } from '../booking/workflow.js';

/**
 * Outbound follow-up: reminds a patient or customer of an appointment and asks them to confirm.
 * Moving or cancelling is the booking workflow's job, so those hand over with the appointment.
 * A callee who asks not to be called again is told so and the outcome says so, for the dialer's
 * do-not-call list.
 */
export interface FollowUpOptions {
  handoffs?: readonly string[];
  /** The appointment the call is about, from the dialer's job. */
  appointment?: Booking;
  contactName?: string;
}

const OPT_OUT = /\b(stop calling|don't call|do not call|remove me|take me off|wrong number|unsubscribe)\b/;
const WHO = /\b(who is this|who's this|who is calling|who's calling|what is this about|what's this about)\b/;

export function createFollowUpWorkflow(profile: BusinessProfile, options: FollowUpOptions = {}): Workflow {
  const handoffs = options.handoffs ?? [];
  const common = commonPhrases(profile.name);
  const appointment = options.appointment;
  const when = appointment ? describeSlot(appointment.slot) : undefined;
  const hello = `Hello${options.contactName ? ` ${options.contactName}` : ''}, this is ${profile.name}`;
  const say = {
    ...common,
    greeting: when
      ? `${hello} calling to remind you of your appointment on ${when}. Can you still make it?`
      : `${hello} calling about your upcoming appointment. Would you like to confirm, move or cancel it?`,
    genericGreeting: `Hello, this is ${profile.name} calling about your upcoming appointment. Would you like to confirm, move or cancel it?`,
    confirmed: when ? `Great, we will see you on ${when}. Goodbye!` : `Great, we will see you then. Goodbye!`,
    moveOrCancel: 'No problem. Would you like to move it to another day, or cancel it?',
    optedOut: 'I am sorry to have bothered you. We will not call you again. Goodbye!',
  };

  function handTo(intent: 'reschedule' | 'cancel'): WorkflowReply {
    if (!handoffs.includes('booking')) {
      return { text: `I can't change it myself, but a member of our team can. ${say.offerHuman}`, intent: `unrouted:${intent}` };
    }
    const fields: Record<string, string> = { intent };
    if (appointment) Object.assign(fields, { bookingId: appointment.bookingId, slotId: appointment.slot.id });
    return {
      text: intent === 'cancel' ? 'Sure, I can cancel it for you.' : 'Sure, let us find a new time.',
      intent: `handoff:booking`,
      handoff: { to: 'booking', reason: `callee wants to ${intent}`, fields },
    };
  }

  function respond(history: readonly Turn[], userText: string): WorkflowReply {
    const normalized = normalizeUtterance(userText);
    const commonIntent = matchCommonIntent(userText);
    const last = lastAgentText(history);

    if (OPT_OUT.test(normalized)) return { text: say.optedOut, intent: 'opt_out', action: 'end_call' };
    if (commonIntent === 'human') return { text: say.transferring, intent: 'human', action: 'transfer_to_human' };
    const change = matchIntent(userText, BOOKING_MODE_INTENTS);
    if (change === 'cancel' || change === 'reschedule') return handTo(change);
    if (WHO.test(normalized)) return { text: say.greeting.replace(/^Hello[^,]*, /, 'Sorry, '), intent: 'who' };

    const askedToConfirm = last === '' || last === say.greeting || last.startsWith('Sorry, this is');
    if (askedToConfirm || last === say.moveOrCancel) {
      if (/\b(move|another day|different day|later|earlier|change)\b/.test(normalized)) return handTo('reschedule');
      if (NO.test(normalized) || /\b(can't|cannot|won't) (make|come|do)\b/.test(normalized)) return { text: say.moveOrCancel, intent: 'cannot_make_it' };
      if (YES.test(normalized) || /\b(confirm|i'll be there|i will be there|see you)\b/.test(normalized)) {
        return { text: say.confirmed, intent: 'confirmed', action: 'end_call' };
      }
    }
    if (commonIntent === 'goodbye') return { text: say.goodbye, intent: 'goodbye', action: 'end_call' };
    return { text: `Sorry, I did not catch that. ${when ? `Can you still make your appointment on ${when}?` : 'Would you like to confirm, move or cancel your appointment?'}`, intent: 'fallback' };
  }

  function outcome(history: readonly Turn[]): OutcomeFields {
    const said = history.filter((t) => t.role === 'assistant').map((t) => t.text);
    let appointmentState: NonNullable<CallOutcome['followUp']>['appointment'] = 'unknown';
    if (said.includes(say.confirmed)) appointmentState = 'confirmed';
    else if (said.includes(say.optedOut)) appointmentState = 'opted_out';
    else if (said.includes('Sure, I can cancel it for you.')) appointmentState = 'cancel';
    else if (said.includes('Sure, let us find a new time.')) appointmentState = 'reschedule';
    return { followUp: { appointment: appointmentState }, resolved: appointmentState === 'confirmed' || appointmentState === 'opted_out' };
  }

  return {
    name: 'follow_up',
    tools: [],
    handoffs,
    greeting: () => say.greeting,
    genericGreeting: () => say.genericGreeting,
    respond,
    outcome,
    silencePrompts: () => ({
      reprompts: [`Hello, are you there? This is ${profile.name} calling about your appointment.`, say.cannotHear],
      goodbye: `I will try again another time. Goodbye!`,
    }),
  };
}
