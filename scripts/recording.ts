import { ConfigError, loadConfig } from '../worker/config.js';
import { createRecordingStore } from '../worker/recording/call-recording.js';
import { deleteCallRecordings } from '../worker/recording/delete-call-recordings.js';
import { sweepRecordings } from '../worker/recording/recording-retention.js';
import { InvalidCallIdError } from '../worker/recording/recording-store.js';

const USAGE = 'usage: npm run recording -- list | delete <callId> | sweep';

/**
 * `npm run recording`: the call recordings in VOICEFLEET_RECORDINGS_DIR.
 *
 *   list             one line per recording: call id, bytes, last written
 *   delete <callId>  deletes the call's recording and voicemail (exit 1 when there was none)
 *   sweep            deletes what is older than VOICEFLEET_RECORDING_RETENTION_DAYS now
 */
async function main(argv: string[]): Promise<number> {
  const config = loadConfig();
  const store = createRecordingStore(config);
  const [command, callId] = argv;
  if (command === 'list' && argv.length === 1) {
    const all = await store.list();
    for (const r of all) console.log(`${r.callId}\t${r.bytes}\t${r.modifiedAt.toISOString()}\t${r.contentType}`);
    console.log(`${all.length} recording(s) in ${config.VOICEFLEET_RECORDINGS_DIR}`);
    return 0;
  }
  if (command === 'delete' && callId !== undefined && argv.length === 2) {
    const deleted = await deleteCallRecordings(store, config.VOICEFLEET_RECORDINGS_DIR, callId);
    console.log(`${callId}: recording ${deleted.recording ? 'deleted' : 'none'}, voicemail ${deleted.voicemail ? 'deleted' : 'none'}`);
    return deleted.recording || deleted.voicemail ? 0 : 1;
  }
  if (command === 'sweep' && argv.length === 1) {
    const swept = await sweepRecordings(store, config.VOICEFLEET_RECORDING_RETENTION_DAYS);
    console.log(`${swept.length} recording(s) older than ${config.VOICEFLEET_RECORDING_RETENTION_DAYS} days deleted`);
    return 0;
  }
  console.error(USAGE);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const known = error instanceof ConfigError || error instanceof InvalidCallIdError;
    console.error(known ? (error as Error).message : `recording: ${(error as Error).stack ?? String(error)}`);
    process.exitCode = 2;
  },
);
