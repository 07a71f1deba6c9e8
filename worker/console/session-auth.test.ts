import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE, ConsoleSessions } from './session-auth.js';

describe('console login', () => {
  const password = 'correct horse battery';
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const sessions = new ConsoleSessions(password);
    const app = express();
    app.use(express.json());
    app.post('/login', sessions.login);
    app.use(sessions.require);
    app.post('/logout', sessions.logout);
    app.get('/secret', (_req, res) => void res.json({ ok: true }));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const login = (body: unknown) => fetch(`${base}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('compares passwords of any length without throwing', () => {
    const sessions = new ConsoleSessions(password);
    expect(sessions.passwordMatches(password)).toBe(true);
    for (const wrong of ['', 'x', `${password} `, password.toUpperCase(), 'a'.repeat(10_000), undefined, 42]) {
      expect(sessions.passwordMatches(wrong)).toBe(false);
    }
  });

  it('refuses without a session, gives an httpOnly strict cookie on the right password, and ends it on logout', async () => {
    expect((await fetch(`${base}/secret`)).status).toBe(401);
    expect((await fetch(`${base}/secret`, { headers: { cookie: `${SESSION_COOKIE}=guess` } })).status).toBe(401);
    const wrong = await login({ password: 'nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();

    const right = await login({ password });
    expect(right.status).toBe(200);
    const setCookie = right.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    const cookie = setCookie.split(';')[0]!;
    expect((await fetch(`${base}/secret`, { headers: { cookie } })).status).toBe(200);

    expect((await fetch(`${base}/logout`, { method: 'POST', headers: { cookie } })).status).toBe(200);
    expect((await fetch(`${base}/secret`, { headers: { cookie } })).status).toBe(401);
  });
});
