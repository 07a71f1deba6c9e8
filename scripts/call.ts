/**
 * `npm run call -- --say "..." [--say "..."]`: a scripted caller against the running fleet.
 * Prints the conversation with the latency the caller experienced at each step.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../worker/config.js';
import { Caller } from '../worker/testing/caller.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      say: { type: 'string', multiple: true, default: [] },
      wav: { type: 'string', multiple: true, default: [] },
      metadata: { type: 'string', default: '{"workflow":"receptionist"}' },
      json: { type: 'boolean', default: false },
      record: { type: 'string' },
      'timeout-s': { type: 'string', default: '30' },
    },
  });
  const config = loadConfig();
  const timeoutMs = Number(values['timeout-s']) * 1000;
  const print = (line: string) => {
    if (!values.json) console.log(line);
  };

  const caller = await Caller.join({
    url: config.LIVEKIT_URL,
    apiKey: config.LIVEKIT_API_KEY,
    apiSecret: config.LIVEKIT_API_SECRET,
    agentName: config.VOICEFLEET_AGENT_NAME,
    metadata: values.metadata,
  });
  print(`joined ${caller.roomName} at ${config.LIVEKIT_URL}; waiting for agent "${config.VOICEFLEET_AGENT_NAME}"`);
  try {
    const greeting = await caller.greeting(timeoutMs).catch((error: Error) => {
      throw new Error(`${error.message}: is a worker with agent name "${config.VOICEFLEET_AGENT_NAME}" running?`);
    });
    print(`agent: ${greeting.text}   (greeting ${Math.round(greeting.joinToGreetingMs)} ms after joining)`);
    for (const line of [...values.say, ...values.wav]) {
      print(`you:   ${line}`);
      const turn = await caller.turn(line, timeoutMs);
      print(`agent: ${turn.agentTranscript}   (${Math.round(turn.firstAgentAudioMs)} ms after you stopped)`);
    }
    if (values.record) await caller.saveRecording(values.record);
    if (values.json) console.log(JSON.stringify(caller.report(), null, 2));
    return 0;
  } finally {
    await caller.hangUp();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof ConfigError ? error.message : `call failed: ${(error as Error).message}`);
    process.exit(1);
  },
);
