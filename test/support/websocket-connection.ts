import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

/**
 * The server side of one WebSocket (RFC 6455), just enough for local provider stubs: the
 * handshake, masked client frames (text, binary, ping, close; fragments joined), unmasked
 * server text frames. The project has no WebSocket server dependency, and a stub needs no more.
 */
export class WebSocketConnection {
  onText: (text: string) => void = () => undefined;
  onBinary: (data: Buffer) => void = () => undefined;
  onClose: () => void = () => undefined;
  #buffer = Buffer.alloc(0);
  #fragments: Buffer[] = [];
  #fragmentOp = 0;
  #closed = false;

  private constructor(readonly socket: Duplex) {
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('close', () => this.#gone());
    socket.on('error', () => this.#gone());
  }

  /** Completes the upgrade handshake of `req`; undefined (socket destroyed) if it is not one. */
  static accept(req: IncomingMessage, socket: Duplex): WebSocketConnection | undefined {
    const key = req.headers['sec-websocket-key'];
    if (typeof key !== 'string' || req.headers.upgrade?.toLowerCase() !== 'websocket') {
      socket.destroy();
      return undefined;
    }
    const accept = createHash('sha1').update(key + HANDSHAKE_GUID).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    return new WebSocketConnection(socket);
  }

  get closed(): boolean {
    return this.#closed;
  }

  sendText(text: string): void {
    this.#send(OP_TEXT, Buffer.from(text, 'utf8'));
  }

  close(code = 1000): void {
    if (this.#closed) return;
    const body = Buffer.alloc(2);
    body.writeUInt16BE(code);
    this.#send(OP_CLOSE, body);
    this.socket.end();
    this.#gone();
  }

  #send(op: number, payload: Buffer): void {
    if (this.#closed || this.socket.destroyed) return;
    const length = payload.length;
    const header = length < 126 ? Buffer.alloc(2) : length < 65_536 ? Buffer.alloc(4) : Buffer.alloc(10);
    header[0] = 0x80 | op;
    if (length < 126) header[1] = length;
    else if (length < 65_536) {
      header[1] = 126;
      header.writeUInt16BE(length, 2);
    } else {
      header[1] = 127;
      header.writeBigUInt64BE(BigInt(length), 2);
    }
    this.socket.write(Buffer.concat([header, payload]));
  }

  #receive(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      if (this.#buffer.length < 2) return;
      const fin = (this.#buffer[0]! & 0x80) !== 0;
      const op = this.#buffer[0]! & 0x0f;
      const masked = (this.#buffer[1]! & 0x80) !== 0;
      let length = this.#buffer[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.#buffer.length < 4) return;
        length = this.#buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.#buffer.length < 10) return;
        length = Number(this.#buffer.readBigUInt64BE(2));
        offset = 10;
      }
      const maskAt = offset;
      if (masked) offset += 4;
      if (this.#buffer.length < offset + length) return;
      const payload = Buffer.from(this.#buffer.subarray(offset, offset + length));
      if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= this.#buffer[maskAt + (i % 4)]!;
      this.#buffer = this.#buffer.subarray(offset + length);
      this.#frame(fin, op, payload);
    }
  }

  #frame(fin: boolean, op: number, payload: Buffer): void {
    if (op === OP_CLOSE) return this.close();
    if (op === OP_PING) return this.#send(OP_PONG, payload);
    if (op === OP_PONG) return;
    if (op !== 0) this.#fragmentOp = op;
    this.#fragments.push(payload);
    if (!fin) return;
    const message = Buffer.concat(this.#fragments);
    this.#fragments = [];
    if (this.#fragmentOp === OP_TEXT) this.onText(message.toString('utf8'));
    else if (this.#fragmentOp === OP_BINARY) this.onBinary(message);
  }

  #gone(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onClose();
  }
}
