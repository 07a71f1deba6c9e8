import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkflow, DEFAULT_BUSINESS_PROFILE, knowledgeAnswer } from '../agents/workflows.js';
import { PROJECT_ROOT } from '../scripts/fleet/servers.js';
import { LocalTTS } from '../worker/providers/local/local-tts.js';
import { concatSamples, encodeWav } from '../worker/providers/local/wav.js';
import { freePort, startTestStack, type TestStack } from './support/servers.js';
import { WorkerProcess } from './support/worker-process.js';

const CHROMIUM = '/usr/bin/chromium';
const SAMPLE_RATE = 16000;
const ARTIFACTS = join(PROJECT_ROOT, 'test-artifacts', 'console');
const REQUEST = 'what are your opening hours';

/**
 * The operator console against the real fleet: livekit-server, Redis, an agent worker that
 * records its calls, and crm-sync serving the console. Chromium's fake microphone plays a WAV of
 * the caller's request: the page must show the greeting, the request as the caller's transcript,
 * the answer, the agent's states and the turn's waterfall, then the call live and in history
 * with its recording playable. Screenshots go to test-artifacts/console/.
 */
describe('operator console', () => {
  let stack: TestStack;
  let worker: WorkerProcess;
  let crmSync: WorkerProcess;
  let browser: Browser | undefined;
  let dir: string;
  let base: string;
  const password = randomBytes(12).toString('base64url');
  const agentName = `vf-console-${randomUUID().slice(0, 8)}`;
  const receptionist = createWorkflow('receptionist');

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'voicefleet-console-'));
    const shared = { VOICEFLEET_AGENT_NAME: agentName, VOICEFLEET_RECORDINGS_DIR: join(dir, 'recordings') };
    stack = await startTestStack();
    const consolePort = await freePort();
    [worker, crmSync] = await Promise.all([
      WorkerProcess.startRegistered(stack, { ...shared, VOICEFLEET_RECORDING: 'on' }),
      WorkerProcess.startCrmSync({
        ...stack.env,
        ...shared,
        VOICEFLEET_WEBHOOK_PORT: String(await freePort()),
        VOICEFLEET_QUEUE_UI_PORT: String(await freePort()),
        VOICEFLEET_QUEUE_UI_PASSWORD: randomBytes(12).toString('base64url'),
        VOICEFLEET_CONSOLE_PORT: String(consolePort),
        VOICEFLEET_CONSOLE_PASSWORD: password,
        VOICEFLEET_CRM: 'file',
        VOICEFLEET_CRM_FILE: join(dir, 'crm.jsonl'),
        VOICEFLEET_OUTBOX_DIR: join(dir, 'outbox'),
        // A loaded machine can take seconds to seat the agent; the no-agent fallback is not under test.
        VOICEFLEET_AGENT_PICKUP_TIMEOUT_MS: '60000',
      }, { waitUntilReady: false }),
    ]);
    // Generous: the machine the tests run on is shared, and crm-sync bundles the page at start-up.
    await Promise.race([
      crmSync.waitForEvent('console_listening', 90_000),
      crmSync.exited.then((e) => Promise.reject(new Error(`crm-sync exited (${e.code ?? e.signal}): ${crmSync.tail(10)}`))),
    ]);
    base = `http://127.0.0.1:${consolePort}`;
  }, 150_000);

  afterAll(async () => {
    await browser?.close();
    await crmSync?.stop();
    await worker?.stop();
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const login = async (): Promise<string> => {
    const res = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password }) });
    expect(res.status).toBe(200);
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/i);
    return cookie.split(';')[0]!;
  };

  it('refuses the API without a session and a wrong password; never serves the API secret', async () => {
    for (const [method, path] of [['GET', '/api/session'], ['GET', '/api/calls/live'], ['GET', '/api/calls/history'], ['GET', '/api/fleet'], ['POST', '/api/talk'], ['GET', '/api/calls/x/recording'], ['DELETE', '/api/calls/x/recording']] as const) {
      const res = await fetch(`${base}${path}`, { method, headers: { cookie: 'vf_console=forged' } });
      expect(res.status, `${method} ${path}`).toBe(401);
    }
    const wrong = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: `${password}x` }) });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();

    const cookie = await login();
    const bodies = [await (await fetch(`${base}/`)).text(), await (await fetch(`${base}/console.js`)).text()];
    expect(bodies[1]!.length).toBeGreaterThan(10_000); // the real bundle, livekit-client inside
    for (const path of ['/api/session', '/api/calls/live', '/api/calls/history', '/api/fleet']) {
      const res = await fetch(`${base}${path}`, { headers: { cookie } });
      expect(res.status, path).toBe(200);
      bodies.push(await res.text());
    }
    const talk = await fetch(`${base}/api/talk`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: '{"workflow":"faq"}' });
    expect(talk.status).toBe(200);
    bodies.push(await talk.text());
    for (const body of bodies) expect(body).not.toContain(stack.apiSecret);
    const fleet = JSON.parse(bodies[5]!);
    expect(fleet).toMatchObject({ redis: 'up', livekit: { status: 'up' } });
    // The worker is on no call yet and is listed all the same, from its heartbeat.
    expect(fleet.workers).toEqual([expect.objectContaining({ pid: worker.pid, liveCalls: 0, talking: 0, draining: false })]);
  });

  it('talks to an agent from Chromium and shows transcripts, states, the waterfall, the live call and its history', async () => {
    const wav = await callerWav(receptionist.greeting());
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
        '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`,
        '--autoplay-policy=no-user-gesture-required', '--allow-loopback-in-peer-connection',
      ],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const pageLog: string[] = [];
    page.on('console', (m) => void pageLog.push(`${m.type()}: ${m.text()}`));
    await page.goto(base);
    await page.fill('#password', password);
    await page.click('#login-button');
    await page.waitForSelector('#app:not(.hidden)');
    await page.selectOption('#workflow', 'receptionist');
    await page.click('#talk-start');
    await page.waitForSelector('#talk-status[data-room]', { timeout: 20_000 });
    const room = (await page.getAttribute('#talk-status', 'data-room'))!;

    // On failure: what the page showed, and what the browser and the worker said.
    const explain = async (error: unknown) => {
      await page.screenshot({ path: join(ARTIFACTS, 'console-failure.png'), fullPage: true }).catch(() => undefined);
      const shown = await page.textContent('#talk').catch(() => '?');
      writeFileSync(join(ARTIFACTS, 'failure-logs.jsonl'), [...worker.lines, ...crmSync.lines, ...pageLog].map((l) => JSON.stringify(l)).join('\n'));
      throw new Error(`${(error as Error).message}\npage: ${shown}\nbrowser: ${pageLog.slice(-15).join('\n')}\nworker: ${worker.tail(15)}`);
    };
    // Bounds are generous: on a loaded machine the supervisor may hand the call to a second agent.
    await conversation(page, room).catch(explain);
  }, 300_000);

  /** From the greeting to the recording's deletion, in one browser page. */
  const conversation = async (page: Page, room: string): Promise<void> => {
    // The greeting's opening words, final or not: the request may come round again and cut it
    // short, and a stalled TTS on a loaded machine closes its segment early.
    await finalLine(page, 'agent', receptionist.greeting().split(' ').slice(0, 2).join(' '), 90_000, false);
    await finalLine(page, 'caller', REQUEST, 90_000);
    await finalLine(page, 'agent', knowledgeAnswer(DEFAULT_BUSINESS_PROFILE, 'hours'), 40_000);
    const states = await page.$$eval('#state-history li', (items) => items.map((i) => i.textContent));
    const at = (s: string) => states.indexOf(s);
    expect(at('listening')).toBeGreaterThanOrEqual(0);
    expect(states.lastIndexOf('thinking')).toBeGreaterThan(at('listening'));
    expect(states.lastIndexOf('speaking')).toBeGreaterThan(states.lastIndexOf('thinking'));

    // The turn's trace arrives once the answer's first audio is out.
    await page.waitForSelector('#waterfall svg rect.stage', { timeout: 20_000 });
    const stages = await page.$$eval('#waterfall svg:first-child rect.stage', (bars) => bars.map((b) => b.getAttribute('data-stage')));
    expect(stages).toEqual(expect.arrayContaining(['eouDecisionMs', 'firstAudioPublishedMs']));
    expect(stages.length).toBeGreaterThanOrEqual(3);

    await page.waitForSelector(`#live-calls tr[data-room="${room}"]`, { timeout: 10_000 });
    const liveRow = await page.textContent(`#live-calls tr[data-room="${room}"]`);
    expect(liveRow).toContain('receptionist');
    await page.screenshot({ path: join(ARTIFACTS, 'console-talk.png'), fullPage: true });

    await page.click('#talk-stop');
    await page.waitForSelector(`#live-calls tr[data-room="${room}"]`, { state: 'detached', timeout: 30_000 });
    const historyRow = `#history-calls tr[data-room="${room}"]`;
    await page.waitForSelector(historyRow, { timeout: 30_000 });
    // The recording is named in the record; the row says so once the store has it.
    await page.waitForFunction(`document.querySelector('${historyRow}')?.lastElementChild?.textContent === 'yes'`, undefined, { timeout: 30_000 });
    await page.click(historyRow);
    const callText = await page.textContent('#call-detail');
    expect(callText).toContain(knowledgeAnswer(DEFAULT_BUSINESS_PROFILE, 'hours'));
    expect(callText).toMatch(/CRM delivery: (delivered|queued)/);
    const duration = await page.$eval('#recording', (audio) => new Promise<number>((resolve, reject) => {
      const a = audio as unknown as AudioElement;
      const done = () => (Number.isFinite(a.duration) && a.duration > 0 ? resolve(a.duration) : undefined);
      a.addEventListener('loadedmetadata', done);
      a.addEventListener('durationchange', done);
      a.addEventListener('error', () => reject(new Error(`audio error ${a.error?.code}`)));
      done();
      if (a.readyState === 0) a.load();
    }));
    expect(duration).toBeGreaterThan(1);
    await page.waitForFunction(`document.querySelector('${historyRow} .pill')?.textContent === 'delivered'`, undefined, { timeout: 20_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'console-history.png'), fullPage: true });

    // Range requests are what the player seeks with; DELETE removes the recording.
    const cookie = await login();
    const callId = (await page.getAttribute(historyRow, 'data-call-id'))!;
    // "delivered" is the CRM's word, not the console's: crm-sync wrote the record there.
    const delivered = readFileSync(join(dir, 'crm.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { record: { callId: string } });
    expect(delivered.some((r) => r.record.callId === callId), 'call record in the CRM file').toBe(true);
    const part = await fetch(`${base}/api/calls/${callId}/recording`, { headers: { cookie, range: 'bytes=0-99' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toMatch(/^bytes 0-99\/\d+$/);
    expect((await part.arrayBuffer()).byteLength).toBe(100);
    expect((await fetch(`${base}/api/calls/${callId}/recording`, { method: 'DELETE', headers: { cookie } })).status).toBe(200);
    expect((await fetch(`${base}/api/calls/${callId}/recording`, { headers: { cookie } })).status).toBe(404);
  };
});

/** The parts of the page's <audio> element the test reads (the test's types have no DOM). */
interface AudioElement {
  duration: number;
  readyState: number;
  error: { code: number } | null;
  addEventListener(type: string, listener: () => void): void;
  load(): void;
}

/** Waits for a transcript line of the speaker (final unless told otherwise) that contains the text. */
async function finalLine(page: Page, speaker: 'agent' | 'caller', text: string, timeoutMs: number, final = true): Promise<void> {
  const lines = `#transcript .line[data-speaker="${speaker}"]${final ? '[data-final="true"]' : ''}`;
  await page.waitForFunction(
    `[...document.querySelectorAll('${lines}')].some((l) => l.textContent.toLowerCase().includes(${JSON.stringify(text.toLowerCase())}))`,
    undefined,
    { timeout: timeoutMs },
  );
}

/**
 * The fake microphone's file: silence while the agent greets (as long as the greeting in the
 * same voice, plus join time), the request, then silence for the answer. Chromium loops it, so a
 * request that went unheard (an agent slow to join on a loaded machine) comes round again.
 */
async function callerWav(greeting: string): Promise<string> {
  const voice = new LocalTTS({ sampleRate: SAMPLE_RATE });
  const render = async (text: string) => (await voice.render(text)).samples;
  const greetingSamples = await render(greeting);
  const request = await render(REQUEST);
  const silence = (s: number) => new Int16Array(Math.round(s * SAMPLE_RATE));
  const samples = concatSamples([silence(greetingSamples.length / SAMPLE_RATE + 4), request, silence(12)]);
  const path = join(ARTIFACTS, 'caller.wav');
  writeFileSync(path, encodeWav({ sampleRate: SAMPLE_RATE, channels: 1, samples }));
  return path;
}
