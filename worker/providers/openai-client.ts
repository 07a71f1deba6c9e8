import OpenAI from 'openai';
import type { Config } from '../config.js';

/**
 * One OpenAI client per job process, shared by every LLM and TTS of its call. The plugins would
 * each make their own, and the first request on a fresh client pays for the HTTP stack's cold
 * start and its connection (TLS to api.openai.com): about 200 ms of the greeting, measured on
 * loopback (a first TTS answer in 300 to 380 ms against 180 to 230 ms for the next).
 */
let shared: { key: string; client: OpenAI } | undefined;

export function openAIClient(config: Config): OpenAI | undefined {
  if (!config.OPENAI_API_KEY) return undefined;
  const key = `${config.OPENAI_BASE_URL ?? ''}\n${config.OPENAI_API_KEY}`;
  if (shared?.key !== key) {
    // The fallback adapters retry, onto the offline providers; the SDK's own retries would be
    // more silence first.
    shared = { key, client: new OpenAI({ apiKey: config.OPENAI_API_KEY, baseURL: config.OPENAI_BASE_URL, maxRetries: 0 }) };
  }
  return shared.client;
}

/**
 * Sends the endpoint one free request (the model list), so the call's first real request finds
 * the client warm and a connection open. Run when the job process starts, and again when a call
 * arrives, since idle connections close after a few seconds. Resolves with the time it took, or
 * undefined if the endpoint did not answer in time; it never throws: a cold start is no error.
 */
export async function warmOpenAI(config: Config, timeoutMs = 2000): Promise<number | undefined> {
  const client = openAIClient(config);
  if (!client) return undefined;
  const startedAt = performance.now();
  try {
    await client.models.list({ signal: AbortSignal.timeout(timeoutMs) });
    return Math.round(performance.now() - startedAt);
  } catch (error) {
    // An endpoint without a model list (some compatible servers) still answered: warm all the same.
    return error instanceof OpenAI.APIError && error.status !== undefined ? Math.round(performance.now() - startedAt) : undefined;
  }
}
