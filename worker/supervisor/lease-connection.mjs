// The alive-lease thread's Redis connection: one socket speaking just the commands a lease needs.
// Plain JavaScript, like the thread. ioredis loaded into the thread's own V8 isolate cost every
// call 30 MiB against 9 MiB for a bare thread; this is the whole client the thread needs.
import { connect as connectTcp } from 'node:net';
import { clearTimeout, setTimeout } from 'node:timers';
import { connect as connectTls } from 'node:tls';
import { URL } from 'node:url';

/** RESP encoding of one command. */
export function encodeCommand(args) {
  let out = `*${args.length}\r\n`;
  for (const arg of args) {
    const text = String(arg);
    out += `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
  }
  return out;
}

/**
 * Reads every complete reply at the front of `buffer`. Returns the replies (an Error for a Redis
 * error reply) and how many bytes they took. Arrays are read too, though no lease command
 * answers with one, so an unexpected reply cannot shift every later answer by one.
 */
export function parseReplies(buffer) {
  const replies = [];
  let offset = 0;
  for (;;) {
    const read = parseOne(buffer, offset);
    if (!read) break;
    replies.push(read.value);
    offset = read.end;
  }
  return { replies, used: offset };
}

function parseOne(buffer, start) {
  const lineEnd = buffer.indexOf('\r\n', start);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buffer[start]);
  const line = buffer.toString('utf8', start + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new Error(line), end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      if (buffer.length < next + length + 2) return undefined;
      return { value: buffer.toString('utf8', next, next + length), end: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items = [];
      let end = next;
      for (let i = 0; i < count; i++) {
        const item = parseOne(buffer, end);
        if (!item) return undefined;
        items.push(item.value);
        end = item.end;
      }
      return { value: items, end };
    }
    default:
      throw new Error(`unexpected Redis reply type ${JSON.stringify(type)}`);
  }
}

/** Where and as whom to connect, from a redis:// or rediss:// URL (user, password, database). */
export function connectionOptions(redisUrl) {
  const url = new URL(redisUrl);
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new Error(`not a Redis URL: ${url.protocol}`);
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  return {
    host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: Number(url.port || 6379),
    tls: url.protocol === 'rediss:',
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: Number.isInteger(db) ? db : 0,
  };
}

/**
 * One connection, reconnecting with a short backoff, that never queues: a command sent while it is
 * down fails at once. A renewal late by a second is no renewal; the next tick tries again.
 */
export class LeaseConnection {
  #options;
  #connectTimeoutMs;
  #onReady;
  #socket;
  #ready = false;
  #closed = false;
  #attempts = 0;
  #pending = [];
  #buffer = Buffer.alloc(0);
  #retry;

  /** `onReady(clientId)` runs on each new connection, with the id Redis gave it. */
  constructor(redisUrl, { connectTimeoutMs = 2000, onReady }) {
    this.#options = connectionOptions(redisUrl);
    this.#connectTimeoutMs = connectTimeoutMs;
    this.#onReady = onReady;
    this.#open();
  }

  get ready() {
    return this.#ready;
  }

  /** Sends the commands in one write; resolves with their replies in order (Errors in place). */
  send(commands) {
    if (!this.#ready) return Promise.reject(new Error('Redis connection not ready'));
    return this.#write(commands);
  }

  close() {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#socket?.destroy();
  }

  #write(commands) {
    return new Promise((resolve, reject) => {
      this.#pending.push({ left: commands.length, replies: [], resolve, reject });
      this.#socket.write(commands.map(encodeCommand).join(''));
    });
  }

  #open() {
    const { host, port, tls } = this.#options;
    const socket = tls ? connectTls({ host, port, servername: host }) : connectTcp({ host, port });
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.setTimeout(this.#connectTimeoutMs, () => socket.destroy(new Error('Redis connect timeout')));
    socket.on(tls ? 'secureConnect' : 'connect', () => void this.#handshake(socket));
    socket.on('data', (chunk) => this.#receive(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => this.#lost(socket));
  }

  async #handshake(socket) {
    const { username, password, db } = this.#options;
    const commands = [];
    if (password) commands.push(username ? ['AUTH', username, password] : ['AUTH', password]);
    if (db) commands.push(['SELECT', db]);
    commands.push(['CLIENT', 'ID']);
    try {
      const replies = await this.#write(commands);
      const failed = replies.find((reply) => reply instanceof Error);
      if (failed) throw failed;
      if (socket !== this.#socket) return;
      socket.setTimeout(0);
      this.#attempts = 0;
      this.#ready = true;
      this.#onReady?.(String(replies.at(-1)));
    } catch {
      socket.destroy();
    }
  }

  #receive(chunk) {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    let parsed;
    try {
      parsed = parseReplies(this.#buffer);
    } catch {
      this.#socket.destroy();
      return;
    }
    this.#buffer = this.#buffer.subarray(parsed.used);
    for (const reply of parsed.replies) {
      const request = this.#pending[0];
      if (!request) continue;
      request.replies.push(reply);
      if (--request.left === 0) {
        this.#pending.shift();
        request.resolve(request.replies);
      }
    }
  }

  #lost(socket) {
    if (socket !== this.#socket) return;
    this.#ready = false;
    this.#buffer = Buffer.alloc(0);
    for (const request of this.#pending.splice(0)) request.reject(new Error('Redis connection lost'));
    if (this.#closed) return;
    this.#attempts += 1;
    this.#retry = setTimeout(() => this.#open(), Math.min(this.#attempts * 200, 2000));
  }
}
