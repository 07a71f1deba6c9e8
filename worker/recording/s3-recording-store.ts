import type { S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import {
  assertCallId,
  clampRange,
  parseRecordingName,
  RECORDING_CONTENT_TYPES as CONTENT_TYPES,
  RECORDING_EXTENSIONS as EXTENSIONS,
  type ByteRange,
  type OpenedRecording,
  type RecordingContentType,
  type RecordingInfo,
  type RecordingStore,
  type SavedRecording,
} from './recording-store.js';


export interface S3RecordingStoreOptions {
  bucket: string;
  /** Put before `calls/` in every key ("" or ending in "/"), so one bucket can hold several fleets. */
  prefix: string;
  /** A client of the caller's; without it one is made from `region` and `endpoint`. */
  client?: S3Client;
  region?: string;
  /** An S3-compatible endpoint other than AWS's; path-style addressing then. */
  endpoint?: string;
}

type Sdk = typeof import('@aws-sdk/client-s3') & typeof import('@aws-sdk/lib-storage');
let sdkLoading: Promise<Sdk> | undefined;
/**
 * The SDK is imported on first use: it costs a job process about 0.45 s of CPU to load, every
 * job process loads this module, and most fleets record locally.
 */
const loadSdk = () =>
  (sdkLoading ??= Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')]).then(([s3, storage]) => ({ ...s3, ...storage })));

/**
 * Recordings as objects `<prefix>calls/<callId>.ogg` (or .wav) in an S3-compatible bucket (AWS
 * S3, MinIO, Ceph, R2...), for a fleet whose workers and console run on different hosts. An
 * object appears whole or not at all: a single PUT, or a multipart upload that is only visible
 * once completed and is aborted when the body fails. Credentials come from the AWS SDK's own
 * chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile, an instance role), never from the
 * voicefleet config.
 */
export class S3RecordingStore implements RecordingStore {
  readonly kind = 's3';
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #options: S3RecordingStoreOptions;
  #connecting?: Promise<{ sdk: Sdk; client: S3Client }>;

  constructor(options: S3RecordingStoreOptions) {
    this.#bucket = options.bucket;
    this.#prefix = options.prefix;
    this.#options = options;
  }

  #s3(): Promise<{ sdk: Sdk; client: S3Client }> {
    const { client, region, endpoint } = this.#options;
    return (this.#connecting ??= loadSdk().then((sdk) => ({
      sdk,
      client: client ?? new sdk.S3Client({ region: region ?? 'us-east-1', endpoint, forcePathStyle: endpoint !== undefined }),
    })));
  }

  uriFor(callId: string, contentType: RecordingContentType): string {
    return `s3://${this.#bucket}/${this.#key(callId, contentType)}`;
  }

  async save(callId: string, body: Readable | AsyncIterable<Uint8Array>, meta: { contentType: RecordingContentType }): Promise<SavedRecording> {
    const key = this.#key(callId, meta.contentType);
    const { sdk, client } = await this.#s3();
    let bytes = 0;
    const counted = Readable.from(
      (async function* () {
        for await (const chunk of body) {
          const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
          bytes += buffer.length;
          yield buffer;
        }
      })(),
    );
    // Upload buffers a part (5 MiB) before it sends: a short call is one PUT, a long one a
    // multipart upload, and a body that fails midway leaves the old object in place.
    await new sdk.Upload({
      client,
      params: { Bucket: this.#bucket, Key: key, Body: counted, ContentType: meta.contentType },
      leavePartsOnError: false,
    }).done();
    for (const other of CONTENT_TYPES) {
      if (other !== meta.contentType) await client.send(new sdk.DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#key(callId, other) }));
    }
    return { callId, uri: this.uriFor(callId, meta.contentType), bytes };
  }

  async open(callId: string, range?: ByteRange): Promise<OpenedRecording | undefined> {
    const found = await this.#find(callId);
    if (!found) return undefined;
    const { start, end } = clampRange(range, found.bytes);
    const { sdk, client } = await this.#s3();
    const object = await client.send(new sdk.GetObjectCommand({ Bucket: this.#bucket, Key: found.key, Range: `bytes=${start}-${end}` }));
    return { stream: object.Body as Readable, totalBytes: found.bytes, start, end, contentType: found.contentType };
  }

  async delete(callId: string): Promise<boolean> {
    assertCallId(callId);
    const { sdk, client } = await this.#s3();
    let removed = false;
    for (const contentType of CONTENT_TYPES) {
      const key = this.#key(callId, contentType);
      // S3's DELETE answers 204 whether or not the object was there; HEAD says which.
      if ((await this.#head(key)) === undefined) continue;
      await client.send(new sdk.DeleteObjectCommand({ Bucket: this.#bucket, Key: key }));
      removed = true;
    }
    return removed;
  }

  async list(): Promise<RecordingInfo[]> {
    const { sdk, client } = await this.#s3();
    const infos: RecordingInfo[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new sdk.ListObjectsV2Command({ Bucket: this.#bucket, Prefix: this.#callsPrefix, ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        const parsed = parseRecordingName(object.Key!.slice(this.#callsPrefix.length));
        if (!parsed) continue;
        infos.push({ ...parsed, uri: this.uriFor(parsed.callId, parsed.contentType), bytes: object.Size ?? 0, modifiedAt: object.LastModified ?? new Date(0) });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return infos.sort((a, b) => a.modifiedAt.getTime() - b.modifiedAt.getTime());
  }

  async sweep(olderThan: Date): Promise<string[]> {
    const { sdk, client } = await this.#s3();
    const swept: string[] = [];
    for (const info of await this.list()) {
      if (info.modifiedAt.getTime() >= olderThan.getTime()) continue;
      await client.send(new sdk.DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#key(info.callId, info.contentType) }));
      swept.push(info.callId);
    }
    // Parts of an upload whose worker died are stored (and billed) until aborted.
    const uploads = await client.send(new sdk.ListMultipartUploadsCommand({ Bucket: this.#bucket, Prefix: this.#callsPrefix }));
    for (const upload of uploads.Uploads ?? []) {
      if (upload.Initiated && upload.Initiated.getTime() < olderThan.getTime()) {
        await client.send(new sdk.AbortMultipartUploadCommand({ Bucket: this.#bucket, Key: upload.Key!, UploadId: upload.UploadId! }));
      }
    }
    return swept;
  }

  get #callsPrefix(): string {
    return `${this.#prefix}calls/`;
  }

  #key(callId: string, contentType: RecordingContentType): string {
    assertCallId(callId);
    return `${this.#callsPrefix}${callId}${EXTENSIONS[contentType]}`;
  }

  async #head(key: string): Promise<{ bytes: number } | undefined> {
    const { sdk, client } = await this.#s3();
    try {
      const head = await client.send(new sdk.HeadObjectCommand({ Bucket: this.#bucket, Key: key }));
      return { bytes: head.ContentLength ?? 0 };
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
      throw error;
    }
  }

  async #find(callId: string): Promise<{ key: string; bytes: number; contentType: RecordingContentType } | undefined> {
    for (const contentType of CONTENT_TYPES) {
      const key = this.#key(callId, contentType);
      const head = await this.#head(key);
      if (head) return { key, bytes: head.bytes, contentType };
    }
    return undefined;
  }
}
