import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';

export type SpanAttribute = string | number | boolean;

export interface ReceivedSpan {
  name: string;
  startMs: number;
  endMs: number;
  attributes: Record<string, SpanAttribute>;
}

/**
 * A minimal OTLP/HTTP trace collector on 127.0.0.1 for tests: accepts protobuf
 * `ExportTraceServiceRequest`s at /v1/traces and decodes the spans' names, times and attributes
 * (enough of opentelemetry-proto's trace.proto to check what a job process exported).
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Raw request bodies, for checks that something is absent anywhere in them. */
  readonly bodies: Buffer[] = [];
  #server?: Server;
  #port = 0;

  get endpoint(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  async start(): Promise<this> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method !== 'POST' || req.url !== '/v1/traces') {
          res.writeHead(404).end();
          return;
        }
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        this.bodies.push(body);
        try {
          this.spans.push(...decodeExportRequest(body));
        } catch {
          res.writeHead(400).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    const address = this.#server.address();
    this.#port = typeof address === 'object' && address ? address.port : 0;
    return this;
  }

  async waitForSpan(test: (span: ReceivedSpan) => boolean, timeoutMs: number): Promise<ReceivedSpan> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.spans.find(test);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching span within ${timeoutMs} ms; got ${[...new Set(this.spans.map((s) => s.name))].join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.#server?.close(resolve) ?? resolve(undefined));
  }
}

type Field = { no: number; wire: number; varint?: bigint; bytes?: Buffer; fixed?: Buffer };

/** The protobuf wire format, field by field. */
function* fields(buf: Buffer): Generator<Field> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buf[pos++];
      if (byte === undefined) throw new Error('truncated varint');
      result |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    if (wire === 0) yield { no, wire, varint: varint() };
    else if (wire === 1) yield { no, wire, fixed: buf.subarray(pos, (pos += 8)) };
    else if (wire === 2) {
      const length = Number(varint());
      yield { no, wire, bytes: buf.subarray(pos, (pos += length)) };
    } else if (wire === 5) yield { no, wire, fixed: buf.subarray(pos, (pos += 4)) };
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

function decodeExportRequest(body: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of fields(body)) {
    if (resourceSpans.no !== 1 || !resourceSpans.bytes) continue;
    for (const scopeSpans of fields(resourceSpans.bytes)) {
      if (scopeSpans.no !== 2 || !scopeSpans.bytes) continue;
      for (const span of fields(scopeSpans.bytes)) if (span.no === 2 && span.bytes) spans.push(decodeSpan(span.bytes));
    }
  }
  return spans;
}

function decodeSpan(buf: Buffer): ReceivedSpan {
  const span: ReceivedSpan = { name: '', startMs: 0, endMs: 0, attributes: {} };
  for (const f of fields(buf)) {
    if (f.no === 5 && f.bytes) span.name = f.bytes.toString('utf8');
    else if (f.no === 7 && f.fixed) span.startMs = Number(f.fixed.readBigUInt64LE() / 1_000_000n);
    else if (f.no === 8 && f.fixed) span.endMs = Number(f.fixed.readBigUInt64LE() / 1_000_000n);
    else if (f.no === 9 && f.bytes) {
      let key = '';
      let value: SpanAttribute | undefined;
      for (const kv of fields(f.bytes)) {
        if (kv.no === 1 && kv.bytes) key = kv.bytes.toString('utf8');
        else if (kv.no === 2 && kv.bytes) value = decodeAnyValue(kv.bytes);
      }
      if (value !== undefined) span.attributes[key] = value;
    }
  }
  return span;
}

function decodeAnyValue(buf: Buffer): SpanAttribute | undefined {
  for (const f of fields(buf)) {
    if (f.no === 1 && f.bytes) return f.bytes.toString('utf8');
    if (f.no === 2 && f.varint !== undefined) return f.varint !== 0n;
    if (f.no === 3 && f.varint !== undefined) return Number(BigInt.asIntN(64, f.varint));
    if (f.no === 4 && f.fixed) return f.fixed.readDoubleLE();
  }
  return undefined;
}
