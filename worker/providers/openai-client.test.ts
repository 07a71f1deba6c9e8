import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkflow } from '../../agents/workflows.js';
import { OpenAICompatibleServer } from '../../test/support/openai-compatible-server.js';
import { loadConfig } from '../config.js';
import { openAIClient, warmOpenAI } from './openai-client.js';

describe('the job process OpenAI client', () => {
  let stub: OpenAICompatibleServer;
  let silent: Server;

  beforeAll(async () => {
    stub = await OpenAICompatibleServer.start(createWorkflow('receptionist'));
    // Accepts the connection and never answers.
    silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await stub.close();
    silent.closeAllConnections();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('is one client for every LLM and TTS of the process, and a new one when the endpoint changes', () => {
    const config = loadConfig({ OPENAI_API_KEY: 'sk-local-test', OPENAI_BASE_URL: stub.baseURL });
    const client = openAIClient(config);
    expect(client).toBeDefined();
    expect(openAIClient(loadConfig({ OPENAI_API_KEY: 'sk-local-test', OPENAI_BASE_URL: stub.baseURL }))).toBe(client);
    expect(openAIClient(loadConfig({ OPENAI_API_KEY: 'sk-local-other', OPENAI_BASE_URL: stub.baseURL }))).not.toBe(client);
    expect(openAIClient(loadConfig({}))).toBeUndefined();
  });

  it('warms up with one model-list request, and says how long it took', async () => {
    const before = stub.modelListRequests;
    const ms = await warmOpenAI(loadConfig({ OPENAI_API_KEY: 'sk-local-test', OPENAI_BASE_URL: stub.baseURL }));
    expect(stub.modelListRequests).toBe(before + 1);
    expect(ms).toBeGreaterThanOrEqual(0);
  });

  it('gives up on an endpoint that does not answer, without throwing', async () => {
    const baseURL = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/v1`;
    const startedAt = performance.now();
    await expect(warmOpenAI(loadConfig({ OPENAI_API_KEY: 'sk-local-test', OPENAI_BASE_URL: baseURL }), 300)).resolves.toBeUndefined();
    // Generous bound around the 300 ms it was given.
    expect(performance.now() - startedAt).toBeLessThan(5000);
  });

  it('does nothing without a key', async () => {
    await expect(warmOpenAI(loadConfig({}))).resolves.toBeUndefined();
  });
});
