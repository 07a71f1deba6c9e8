import { RECEPTIONIST_CORPUS } from './receptionist-corpus.js';

/**
 * What callers of every workflow say: the receptionist's sentences plus those of support, sales
 * and reminder calls. The local recognizer builds one language model from all of them, because a
 * call can be handed from one workflow to another without a new recognizer.
 */
export const CALLER_CORPUS: readonly string[] = [
  ...RECEPTIONIST_CORPUS,
  // Support triage.
  'I have a problem with my bill',
  'I was charged twice',
  'I need a refund',
  'I can not log in to my account',
  'I forgot my password',
  'my account is locked',
  'the app is not working',
  'the website is down',
  'it is urgent',
  'my account number is one two three four five six',
  "I don't have an account number",
  // Lead qualification.
  'I would like a quote for my company',
  'I am interested in your software for my team',
  'we need a new system for about twenty people',
  'about five thousand dollars',
  'around ten thousand',
  'I make the decision',
  'my boss has to approve it',
  'as soon as possible',
  'this month',
  'next quarter',
  'my name is jane doe',
  "I'd rather not say",
  // Follow-up calls.
  'yes I will be there',
  "I can't make it",
  'can I move it to another day',
  'please cancel it',
  'who is this',
  'please stop calling me',
  'wrong number',
];
