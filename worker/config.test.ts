import { describe, expect, it } from 'vitest';
import { ConfigError, DEV_API_SECRET, describeProviders, loadConfig } from './config.js';

function errorFor(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected loadConfig to throw');
}

describe('config', () => {
  it('has working dev defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config.LIVEKIT_URL).toBe('ws://127.0.0.1:7880');
    expect(config.LIVEKIT_API_SECRET).toBe(DEV_API_SECRET);
    expect(config.VOICEFLEET_AGENT_NAME).toBe('voicefleet');
    expect(config.OPENAI_API_KEY).toBeUndefined();
  });

  it('coerces numbers from strings', () => {
    expect(loadConfig({ VOICEFLEET_IDLE_PROCESSES: '3' }).VOICEFLEET_IDLE_PROCESSES).toBe(3);
  });

  it.each([
    ['LIVEKIT_URL', 'http://localhost:7880'],
    ['LIVEKIT_API_SECRET', 'short'],
    ['REDIS_URL', 'localhost:6379'],
    ['VOICEFLEET_AGENT_NAME', 'Has Spaces'],
    ['VOICEFLEET_MAX_CALLS_PER_WORKER', '0'],
    ['VOICEFLEET_IDLE_PROCESSES', 'many'],
    ['VOICEFLEET_LOCAL_TTS', 'sam'],
    ['LOG_LEVEL', 'loud'],
    ['OPENAI_BASE_URL', 'not a url'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', '127.0.0.1:4318'],
    ['VOICEFLEET_DRAIN_TIMEOUT_MS', '0'],
    ['VOICEFLEET_AGENT_PICKUP_TIMEOUT_MS', 'soon'],
    ['VOICEFLEET_RECORDINGS_STORE', 'ftp'],
    ['VOICEFLEET_RECORDINGS_S3_BUCKET', 'Not_A_Bucket'],
    ['VOICEFLEET_RECORDINGS_S3_PREFIX', '/absolute'],
    ['VOICEFLEET_RECORDINGS_S3_ENDPOINT', '127.0.0.1:9000'],
  ])('names the key of a bad %s', (key, value) => {
    const error = errorFor({ [key]: value });
    expect(error.issues.map((i) => i.key)).toEqual([key]);
    expect(error.message).toContain(key);
  });

  it('traces only when an OTLP endpoint is set (empty is unset)', () => {
    expect(loadConfig({}).OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: '' }).OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }).OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://127.0.0.1:4318');
  });

  it('an S3 recording store needs its bucket; empty keys in an env file are unset', () => {
    const error = errorFor({ VOICEFLEET_RECORDINGS_STORE: 's3', VOICEFLEET_RECORDINGS_S3_BUCKET: '' });
    expect(error.issues).toEqual([{ key: 'VOICEFLEET_RECORDINGS_S3_BUCKET', message: 'required when VOICEFLEET_RECORDINGS_STORE=s3' }]);
    const config = loadConfig({ VOICEFLEET_RECORDINGS_STORE: 's3', VOICEFLEET_RECORDINGS_S3_BUCKET: 'calls', VOICEFLEET_RECORDINGS_S3_ENDPOINT: '' });
    expect([config.VOICEFLEET_RECORDINGS_S3_BUCKET, config.VOICEFLEET_RECORDINGS_S3_ENDPOINT, config.VOICEFLEET_RECORDINGS_S3_PREFIX]).toEqual(['calls', undefined, '']);
  });

  it('reports every bad key at once', () => {
    const error = errorFor({ LIVEKIT_URL: 'nope', LOG_LEVEL: 'loud' });
    expect(error.issues.map((i) => i.key).sort()).toEqual(['LIVEKIT_URL', 'LOG_LEVEL']);
  });

  it('never puts a secret into the error message', () => {
    const error = errorFor({ LIVEKIT_API_SECRET: 'tooShortSecret123' });
    expect(error.message).not.toContain('tooShortSecret123');
  });

  it('treats an empty key as unset and picks cloud providers only with keys', () => {
    expect(describeProviders(loadConfig({ OPENAI_API_KEY: '' })).llm).toBe('workflow-engine');
    const cloud = describeProviders(loadConfig({ OPENAI_API_KEY: 'sk-test', DEEPGRAM_API_KEY: 'dg' }));
    expect(cloud.llm).toMatch(/^openai:.*-> workflow-engine$/);
    expect(cloud.stt).toMatch(/^deepgram:.*-> pocketsphinx$/);
  });
});
