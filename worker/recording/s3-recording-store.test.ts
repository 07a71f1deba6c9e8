import { CreateMultipartUploadCommand, ListMultipartUploadsCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { buffer, text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingStoreContract } from '../../test/support/recording-store-contract.js';
import { S3Peer } from '../../test/support/s3-peer.js';
import { createRecordingStore } from './call-recording.js';
import { S3RecordingStore } from './s3-recording-store.js';

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('S3RecordingStore (against an S3-compatible server on loopback)', () => {
  let peer: S3Peer;
  let client: S3Client;
  const bucket = 'voicefleet-recordings';
  /** A fresh prefix per test: each test sees only its own objects. */
  const store = () => {
    const prefix = `fleet-${randomUUID().slice(0, 8)}/`;
    return { prefix, store: new S3RecordingStore({ bucket, prefix, client }) };
  };

  beforeAll(async () => {
    peer = await S3Peer.start();
    await peer.createBucket(bucket);
    client = peer.client();
  }, 60_000);
  afterAll(async () => {
    client?.destroy();
    await peer?.stop();
  });

  it('shows a recording only once it is complete, under <prefix>calls/<callId>', async () => {
    const { prefix, store: s } = store();
    const body = new PassThrough();
    const saving = s.save('call_1', body, { contentType: 'audio/ogg' });
    body.write('first half ');
    await sleep(100);
    expect(await s.open('call_1')).toBeUndefined();
    body.end('second half');
    expect(await saving).toEqual({ callId: 'call_1', uri: `s3://${bucket}/${prefix}calls/call_1.ogg`, bytes: 22 });
    const opened = (await s.open('call_1'))!;
    expect([opened.contentType, opened.totalBytes, await text(opened.stream)]).toEqual(['audio/ogg', 22, 'first half second half']);
  });

  it('keeps the old recording, and no upload in progress, when a save fails midway (one PUT or multipart)', async () => {
    const { store: s } = store();
    await s.save('call_2', Readable.from([Buffer.from('old')]), { contentType: 'audio/wav' });
    const failingAfter = (bytes: number) => {
      let sent = 0;
      return new Readable({
        read() {
          if (sent >= bytes) return void this.destroy(new Error('encoder died'));
          const chunk = randomBytes(Math.min(1 << 20, bytes - sent));
          sent += chunk.length;
          this.push(chunk);
        },
      });
    };
    await expect(s.save('call_2', failingAfter(1000), { contentType: 'audio/wav' })).rejects.toThrow('encoder died');
    // Past the 5 MiB part size: the first part is already up when the body fails.
    await expect(s.save('call_2', failingAfter(6 << 20), { contentType: 'audio/wav' })).rejects.toThrow('encoder died');
    expect(await text((await s.open('call_2'))!.stream)).toBe('old');
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect(uploads.Uploads ?? []).toEqual([]);
  });

  it('stores a long call as a multipart upload, byte for byte', async () => {
    const { store: s } = store();
    const audio = randomBytes(11 << 20);
    const chunks = Array.from({ length: 11 }, (_, i) => audio.subarray(i << 20, (i + 1) << 20));
    const saved = await s.save('long_call', Readable.from(chunks), { contentType: 'audio/ogg' });
    expect(saved.bytes).toBe(audio.length);
    const opened = (await s.open('long_call'))!;
    expect(opened.totalBytes).toBe(audio.length);
    expect(sha(await buffer(opened.stream))).toBe(sha(audio));
  }, 60_000);

  it('keeps one format per call, deletes by call id, and says when there was nothing to delete', async () => {
    const { store: s } = store();
    await s.save('call_4', Readable.from([Buffer.from('wav')]), { contentType: 'audio/wav' });
    await s.save('call_4', Readable.from([Buffer.from('ogg')]), { contentType: 'audio/ogg' });
    await s.save('call_5', Readable.from([Buffer.from('y')]), { contentType: 'audio/ogg' });
    expect((await s.list()).map((r) => [r.callId, r.contentType])).toEqual([['call_4', 'audio/ogg'], ['call_5', 'audio/ogg']]);
    expect(await s.delete('call_4')).toBe(true);
    expect(await s.delete('call_4')).toBe(false);
    expect((await s.list()).map((r) => r.callId)).toEqual(['call_5']);
  });

  it('sweeps recordings last written before the cut-off, and uploads abandoned before it', async () => {
    const { prefix, store: s } = store();
    for (const id of ['old_1', 'old_2']) await s.save(id, Readable.from([Buffer.from(id)]), { contentType: 'audio/ogg' });
    // S3 dates objects to the second.
    await sleep(1100);
    const cutOff = new Date();
    await sleep(1100);
    await s.save('fresh', Readable.from([Buffer.from('fresh')]), { contentType: 'audio/ogg' });
    expect((await s.sweep(cutOff)).sort()).toEqual(['old_1', 'old_2']);
    expect((await s.list()).map((r) => r.callId)).toEqual(['fresh']);

    // A worker that died mid-upload leaves its parts behind.
    const key = `${prefix}calls/crashed.ogg`;
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: randomBytes(1024) }));
    const pending = async () => ((await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }))).Uploads ?? []).length;
    expect(await pending()).toBe(1);
    expect(await s.sweep(new Date(Date.now() + 60_000))).toEqual(['fresh']);
    expect(await pending()).toBe(0);
  });

  recordingStoreContract(() => store().store);

  it('is the store the config picks, with the SDK reading its credentials from the environment', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = S3Peer.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = S3Peer.credentials.secretAccessKey;
    try {
      const s = createRecordingStore({
        VOICEFLEET_RECORDINGS_DIR: '/nonexistent',
        VOICEFLEET_RECORDINGS_STORE: 's3',
        VOICEFLEET_RECORDINGS_S3_BUCKET: bucket,
        VOICEFLEET_RECORDINGS_S3_PREFIX: 'configured/',
        VOICEFLEET_RECORDINGS_S3_REGION: 'us-east-1',
        VOICEFLEET_RECORDINGS_S3_ENDPOINT: peer.endpoint,
      });
      expect(s.kind).toBe('s3');
      const result = await s.save('via_config', Readable.from([Buffer.from('hello')]), { contentType: 'audio/ogg' });
      expect(result.uri).toBe(`s3://${bucket}/configured/calls/via_config.ogg`);
      expect(await text((await s.open('via_config'))!.stream)).toBe('hello');
    } finally {
      for (const [key, value] of [['AWS_ACCESS_KEY_ID', saved.id], ['AWS_SECRET_ACCESS_KEY', saved.secret]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
});
