import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { assertCallId, type RecordingStore } from './recording-store.js';

export interface DeletedRecordings {
  callId: string;
  /** The call's recording was in the store and is gone. */
  recording: boolean;
  /** The caller's voicemail of that call (worker/overflow/voicemail.ts) was there and is gone. */
  voicemail: boolean;
}

/**
 * Everything recorded of one call, deleted (a caller's erasure request): the call recording and
 * the voicemail the caller left, if any. Call records keep their uri, which then finds nothing.
 */
export async function deleteCallRecordings(store: RecordingStore, recordingsDir: string, callId: string): Promise<DeletedRecordings> {
  assertCallId(callId);
  const recording = await store.delete(callId);
  let voicemail = true;
  try {
    await unlink(join(recordingsDir, `voicemail-${callId}.wav`));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    voicemail = false;
  }
  return { callId, recording, voicemail };
}
