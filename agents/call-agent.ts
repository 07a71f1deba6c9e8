import { beta, voice, type llm } from '@livekit/agents';
import { receptionistInstructions } from './receptionist/prompt.js';
import type { BusinessProfile } from './workflows.js';

/**
 * The voice.Agent that runs one workflow on a call. It greets on entry and carries the tools the
 * workflow may ask for; what it says between greeting and goodbye comes from the session's LLM
 * (the workflow engine, or a cloud model that the engine backs up).
 */
export class CallAgent extends voice.Agent {
  readonly #greeting: string;

  constructor(options: {
    /** The facts the instructions of a cloud model are limited to. */
    profile: BusinessProfile;
    greeting: string;
    /** The workflow's data tools (calendar, tickets), bound to this call by the worker. */
    tools?: readonly llm.FunctionTool<any, any, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  }) {
    super({
      instructions: receptionistInstructions(options.profile),
      tools: [
        // The caller hears the goodbye in full before the room is closed, which hangs up SIP legs.
        beta.createEndCallTool({ endInstructions: null, deleteRoom: true }),
        ...(options.tools ?? []),
      ],
    });
    this.#greeting = options.greeting;
  }

  override async onEnter(): Promise<void> {
    this.session.say(this.#greeting);
  }
}
