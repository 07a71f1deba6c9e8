import { voice } from '@livekit/agents';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createBookingTools } from '../../agents/booking/tools.js';
import type { Booking } from '../../agents/booking/calendar.js';
import { createTicketTools } from '../../agents/support-triage/tickets.js';
import type { CallOutcome, WorkflowName, WorkflowSettings } from '../../agents/workflows.js';
import { CallAgents } from '../call-agents.js';
import { CallOutcomeRecorder } from '../call-outcome-recorder.js';
import { loadConfig } from '../config.js';
import { Deployments, workflowSettingsFor, type Deployment } from '../deployments.js';
import { FileCalendar } from '../ports/file-calendar.js';
import { FileTickets } from '../ports/file-tickets.js';
import { createHumanTransferTool } from '../telephony/human-transfer.js';

/**
 * A whole call in text mode: the real AgentSession, the agents and tools a worker assembles for
 * the deployment (via CallAgents), a calendar and a ticket file in a temp folder, and a recorder
 * that produces the CallOutcome. Only the audio is missing. `brain` picks the workflow engine or
 * the real OpenAI plugin against a local endpoint.
 */
export interface TextCallOptions {
  deployment: string;
  /** Overrides the deployment's first workflow, as job metadata may. */
  workflow?: WorkflowName;
  /** OpenAI-compatible endpoint: the OpenAI plugin leads, the engine stands behind it. */
  openaiBaseURL?: string;
  /** Who is calling, for the calendar's "my appointment" lookups. */
  caller?: string;
  /** Appointments already in the calendar, by caller. */
  existingBookings?: { slotId: string; caller: string }[];
  /** The appointment a follow-up call is about; 'first-existing' is the first seeded booking. */
  appointment?: Booking | 'first-existing';
  contactName?: string;
  /** A SIP caller: transfers go through this stub SIP client. */
  sipTransfer?: (room: string, identity: string, to: string) => Promise<void>;
  /** Told the call's workflow settings before it starts (a local model endpoint needs them). */
  onSettings?: (settings: WorkflowSettings) => void;
  /** Monday 30 November 2026, 10:30 unless given. */
  now?: () => Date;
}

export interface TextTurn {
  /** What the agent said in answer, in order (handed-over agents included). */
  said: string[];
  /** Tools the agent called. */
  tools: string[];
}

export class TextCall {
  readonly session: voice.AgentSession;
  readonly recorder: CallOutcomeRecorder;
  readonly agents: CallAgents;
  readonly deployment: Deployment;
  readonly logLines: Record<string, unknown>[];
  readonly greeting: string;
  readonly #dir: string;
  readonly #calendarPath: string;
  readonly #ticketsPath: string;
  /** Where SIP transfers were sent. */
  readonly transfers: string[];
  /** The call's calendar, to change it behind the agent's back (another caller booking). */
  readonly calendar: FileCalendar;
  #said: string[] = [];
  #tools: string[] = [];

  private constructor(args: {
    calendar: FileCalendar;
    transfers: string[];
    session: voice.AgentSession;
    recorder: CallOutcomeRecorder;
    agents: CallAgents;
    deployment: Deployment;
    logLines: Record<string, unknown>[];
    greeting: string;
    dir: string;
  }) {
    this.transfers = args.transfers;
    this.calendar = args.calendar;
    this.session = args.session;
    const E = voice.AgentSessionEventTypes;
    this.session.on(E.ConversationItemAdded, (ev) => {
      if (ev.item.type === 'message' && ev.item.role === 'assistant') this.#said.push(ev.item.textContent ?? '');
    });
    this.session.on(E.FunctionToolsExecuted, (ev) => {
      this.#tools.push(...ev.functionCalls.map((c) => c.name));
    });
    this.recorder = args.recorder;
    this.agents = args.agents;
    this.deployment = args.deployment;
    this.logLines = args.logLines;
    this.greeting = args.greeting;
    this.#dir = args.dir;
    this.#calendarPath = join(args.dir, 'calendar.json');
    this.#ticketsPath = join(args.dir, 'tickets.jsonl');
  }

  static async start(options: TextCallOptions): Promise<TextCall> {
    const dir = mkdtempSync(join(tmpdir(), 'voicefleet-textcall-'));
    const config = loadConfig(
      options.openaiBaseURL ? { OPENAI_API_KEY: 'sk-local-test', OPENAI_BASE_URL: options.openaiBaseURL, VOICEFLEET_LLM_ATTEMPT_TIMEOUT_MS: '4000' } : {},
    );
    const deployment = Deployments.load(config.VOICEFLEET_DEPLOYMENTS_FILE).get(options.deployment);
    if (!deployment) throw new Error(`no deployment ${options.deployment}`);
    const logLines: Record<string, unknown>[] = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => logLines.push(JSON.parse(line)) });
    const recorder = new CallOutcomeRecorder(log);
    const now = options.now ?? (() => new Date(2026, 10, 30, 10, 30));
    const calendar = new FileCalendar({ path: join(dir, 'calendar.json'), openingHours: deployment.business.openingHours, daysAhead: 14, now });
    const seeded: Booking[] = [];
    for (const b of options.existingBookings ?? []) {
      const result = await calendar.book(b.slotId, { callId: 'earlier-call', caller: b.caller });
      if (!result.ok) throw new Error(`seed booking ${b.slotId} refused: ${result.reason}`);
      seeded.push({ bookingId: result.bookingId, slot: result.slot });
    }
    const appointment = options.appointment === 'first-existing' ? seeded[0] : options.appointment;
    const caller = options.caller ?? '+15550001111';
    const transfers: string[] = [];
    const transferTool = createHumanTransferTool({
      transferTo: deployment.humanTransferTo,
      sip: options.sipTransfer
        ? {
            client: {
              transferSipParticipant: async (room: string, identity: string, to: string) => {
                transfers.push(to);
                await options.sipTransfer!(room, identity, to);
              },
            } as never,
            roomName: 'text-call',
            participantIdentity: 'sip-caller',
          }
        : undefined,
      log,
      onResult: (result) => recorder.transferred(result),
    });
    const settings = workflowSettingsFor(deployment, { appointment, contactName: options.contactName });
    options.onSettings?.(settings);
    const agents = new CallAgents({
      config,
      settings,
      dataTools: {
        ...createBookingTools(calendar, { callId: 'text-call', caller }),
        ...createTicketTools(new FileTickets(join(dir, 'tickets.jsonl')), { callId: 'text-call' }),
      },
      transferTool,
      recorder,
    });
    const session = new voice.AgentSession({});
    const first = agents.create(options.workflow ?? deployment.workflow);
    const greeting = first.workflow.greeting();
    await session.start({ agent: first });
    const call = new TextCall({ calendar, transfers, session, recorder, agents, deployment, logLines, greeting, dir });
    await call.#settle();
    return call;
  }

  /** One caller turn; waits until the agent (and any agent it hands to) has answered. */
  async say(text: string): Promise<TextTurn> {
    this.#said = [];
    this.#tools = [];
    await this.session.run({ userInput: text }).wait();
    // A handed-over agent answers in a turn of its own, after the run that caused the handoff.
    await this.#settle();
    return { said: this.#said, tools: this.#tools };
  }

  /** Ends the call as a hang-up would, and returns its outcome. */
  async hangUp(reason = 'participant_disconnected'): Promise<CallOutcome> {
    const outcome = this.recorder.finish(reason);
    await this.session.close();
    return outcome;
  }

  bookings(): { slotId: string; caller?: string }[] {
    try {
      return (JSON.parse(readFileSync(this.#calendarPath, 'utf8')) as { bookings: { slotId: string; caller?: string }[] }).bookings;
    } catch {
      return [];
    }
  }

  tickets(): Record<string, unknown>[] {
    try {
      return readFileSync(this.#ticketsPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    } catch {
      return [];
    }
  }

  async close(): Promise<void> {
    await this.session.close().catch(() => undefined);
    rmSync(this.#dir, { recursive: true, force: true });
  }

  /** Waits until the session has said everything it is going to say for now. */
  async #settle(): Promise<void> {
    for (let idle = 0; idle < 3; ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const state = this.session.agentState;
      idle = state === 'listening' || state === 'idle' ? idle + 1 : 0;
    }
  }
}
