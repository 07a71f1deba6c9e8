import { pino, type Logger } from 'pino';

/**
 * The fleet's structured logger: one JSON line per event, fixed messages, facts as fields.
 * Phone numbers and transcripts travel only under `pii`, which is removed unless the level is
 * debug or finer, so an info-level log can be shipped anywhere.
 */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  const keepPii = level === 'debug' || level === 'trace';
  return pino({
    level,
    base: { svc: 'voicefleet', pid: process.pid, ...bindings },
    redact: keepPii ? [] : { paths: ['pii', '*.pii'], remove: true },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

/** "+15550100123" -> "+1555***0123": enough to tell calls apart, not enough to dial. */
export function maskPhoneNumber(number: string | undefined): string | undefined {
  if (!number) return number;
  const digits = number.replace(/[^\d+]/g, '');
  if (digits.length <= 6) return '***';
  return `${digits.slice(0, 4)}***${digits.slice(-4)}`;
}
