import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type express from 'express';

export const SESSION_COOKIE = 'vf_console';
const SESSION_TTL_MS = 12 * 3600 * 1000;
/** Wrong passwords cost this long, so guessing over the loopback is slow. */
const FAILED_LOGIN_DELAY_MS = 500;

/**
 * The console's login: one operator password from the environment, compared in constant time;
 * a random session id in an httpOnly, SameSite=Strict cookie. Sessions live in this process's
 * memory: a restart logs everyone out, which is fine for one api process.
 */
export class ConsoleSessions {
  readonly #expected: Buffer;
  readonly #sessions = new Map<string, number>();

  constructor(password: string) {
    this.#expected = digest(password);
  }

  /** Digests of equal length make the compare independent of the password's length. */
  passwordMatches(given: unknown): boolean {
    return typeof given === 'string' && timingSafeEqual(digest(given), this.#expected);
  }

  login: express.RequestHandler = (req, res) => {
    const password = (req.body as { password?: unknown } | undefined)?.password;
    if (!this.passwordMatches(password)) {
      setTimeout(() => res.status(401).json({ error: 'wrong password' }), FAILED_LOGIN_DELAY_MS);
      return;
    }
    const id = randomBytes(32).toString('base64url');
    this.#sessions.set(id, Date.now() + SESSION_TTL_MS);
    res.cookie(SESSION_COOKIE, id, { httpOnly: true, sameSite: 'strict', path: '/', maxAge: SESSION_TTL_MS });
    res.json({ ok: true });
  };

  logout: express.RequestHandler = (req, res) => {
    const id = sessionId(req);
    if (id) this.#sessions.delete(id);
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.json({ ok: true });
  };

  /** Every /api route but login sits behind this: no session, 401. */
  require: express.RequestHandler = (req, res, next) => {
    const id = sessionId(req);
    const expires = id ? this.#sessions.get(id) : undefined;
    if (id && expires && expires > Date.now()) return next();
    if (id) this.#sessions.delete(id);
    res.status(401).json({ error: 'login required' });
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function sessionId(req: express.Request): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === SESSION_COOKIE) return rest.join('=') || undefined;
  }
  return undefined;
}
