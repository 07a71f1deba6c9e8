import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A webhook CRM on loopback that behaves like a careful real receiver: it checks the HMAC
 * signature and its freshness, and applies each idempotency key once. Tests script failures.
 */
export class CrmStub {
  /** Every request that reached the handler, in order. */
  readonly requests: { key: string; status: number }[] = [];
  /** Applied records by idempotency key: the CRM's state. */
  readonly writes = new Map<string, Record<string, unknown>>();
  /** Answer the next N requests with this status. */
  failNext: { count: number; status: number } = { count: 0, status: 500 };
  /** Keys refused for good. */
  readonly refuse = new Map<string, number>();
  /** Hold each answer this long, before applying the write. */
  holdMs = 0;
  /** Apply the write, then hold the answer this long: the sender may die never knowing it landed. */
  holdAfterWriteMs = 0;
  readonly #server: Server;
  readonly #open = new Set<ServerResponse>();

  private constructor(readonly secret: string) {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void this.#handle(req.headers, Buffer.concat(chunks).toString('utf8'), res));
    });
  }

  static async start(secret: string): Promise<CrmStub> {
    const stub = new CrmStub(secret);
    await new Promise<void>((resolve) => stub.#server.listen(0, '127.0.0.1', resolve));
    return stub;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/records`;
  }

  /** Calls written under more than one key (their effect applied twice): must stay empty. */
  get duplicates(): string[] {
    const keysByCall = new Map<string, number>();
    for (const record of this.writes.values()) keysByCall.set(String(record.callId), (keysByCall.get(String(record.callId)) ?? 0) + 1);
    return [...keysByCall].filter(([, n]) => n > 1).map(([callId]) => callId);
  }

  /** Call ids the CRM holds a record for. */
  get delivered(): Set<string> {
    return new Set([...this.writes.values()].map((r) => String(r.callId)));
  }

  async close(): Promise<void> {
    for (const res of this.#open) res.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(headers: Record<string, string | string[] | undefined>, body: string, res: ServerResponse): Promise<void> {
    this.#open.add(res);
    // The sender hung up before hearing an answer (killed, timed out).
    let senderGone = false;
    res.on('close', () => {
      this.#open.delete(res);
      if (res.writableEnded) return;
      senderGone = true;
      // Status 0: the sender never heard an answer (a write may have been applied all the same).
      this.requests.push({ key: String(headers['idempotency-key'] ?? ''), status: 0 });
    });
    const key = String(headers['idempotency-key'] ?? '');
    const answer = (status: number, text = '') => {
      this.requests.push({ key, status });
      res.writeHead(status, { 'content-type': 'application/json', 'x-record-id': `rec_${key}` }).end(text);
    };
    if (this.holdMs > 0) await new Promise((resolve) => setTimeout(resolve, this.holdMs));
    if (senderGone) return;
    const timestamp = String(headers['x-voicefleet-timestamp'] ?? '');
    const expected = `sha256=${createHmac('sha256', this.secret).update(`${timestamp}.${body}`).digest('hex')}`;
    const given = String(headers['x-voicefleet-signature'] ?? '');
    if (given.length !== expected.length || !timingSafeEqual(Buffer.from(given), Buffer.from(expected))) return answer(401, '{"error":"bad signature"}');
    if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return answer(401, '{"error":"stale signature"}');
    if (!key) return answer(400, '{"error":"missing idempotency key"}');
    if (this.failNext.count > 0) {
      this.failNext.count -= 1;
      return answer(this.failNext.status, '{"error":"scripted failure"}');
    }
    const refused = this.refuse.get(key);
    if (refused) return answer(refused, '{"error":"contact owner does not exist"}');
    // Idempotency: a key seen before changes nothing and answers as before.
    if (!this.writes.has(key)) this.writes.set(key, JSON.parse(body) as Record<string, unknown>);
    if (this.holdAfterWriteMs > 0) await new Promise((resolve) => setTimeout(resolve, this.holdAfterWriteMs));
    if (senderGone) return;
    answer(200, '{"ok":true}');
  }
}
