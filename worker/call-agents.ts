import type { llm } from '@livekit/agents';
import { CallAgent, type CallAgentOptions } from '../agents/call-agent.js';
import { createWorkflow, type WorkflowName, type WorkflowSettings } from '../agents/workflows.js';
import type { CallOutcomeRecorder } from './call-outcome-recorder.js';
import type { Config } from './config.js';
import { buildLLM, onFailover } from './providers/session-providers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyTool = llm.FunctionTool<any, any, any>;

/**
 * Builds the agents of one call: the first, and each one a call is handed to, all bound to the
 * same tools, recorder and settings. The worker and the text-mode tests assemble calls with it,
 * so what the tests run is what callers get.
 */
export interface CallAgentsOptions {
  config: Config;
  /** The deployment's settings; its business profile is what every agent may state. */
  settings: WorkflowSettings;
  /** Every data tool of the call by name; each agent installs only its workflow's. */
  dataTools: Readonly<Record<string, AnyTool>>;
  transferTool?: AnyTool;
  recorder: CallOutcomeRecorder;
  /** Told when an agent's cloud LLM fails over to the workflow engine. */
  onFailover?: (kind: 'llm') => void;
}

export class CallAgents {
  readonly #options: CallAgentsOptions;
  #current: CallAgent | undefined;

  constructor(options: CallAgentsOptions) {
    this.#options = options;
  }

  /** The agent on the call now: it decides what a silent caller hears. */
  get current(): CallAgent | undefined {
    return this.#current;
  }

  create(name: WorkflowName, entry: Pick<CallAgentOptions, 'greeting' | 'handoff' | 'history'> = {}): CallAgent {
    const { config, settings, dataTools, transferTool, recorder } = this.#options;
    const workflow = createWorkflow(name, settings);
    const { llm } = buildLLM(config, workflow, (reply) => recorder.replied(name, reply));
    if (this.#options.onFailover) onFailover(llm, 'llm', () => this.#options.onFailover!('llm'));
    const agent = new CallAgent({
      name,
      workflow,
      profile: settings.profile,
      llm,
      tools: dataTools,
      transferTool,
      ...entry,
      next: (to, handoff) => this.create(to, { handoff }),
    });
    recorder.entered(agent, entry.handoff?.note.from, entry.handoff?.note.reason);
    this.#current = agent;
    return agent;
  }
}
