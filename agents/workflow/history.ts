import type { HandoffNote, Turn } from './types.js';

/** Readers over a transcript, shared by the scripted workflows. */

export function lastAgentText(history: readonly Turn[]): string {
  return [...history].reverse().find((t) => t.role === 'assistant')?.text ?? '';
}

/** The note the previous workflow handed over, if this workflow took the call from another. */
export function handoffNoteOf(history: readonly Turn[]): HandoffNote | undefined {
  const turn = history.find((t) => t.role === 'handoff');
  if (!turn) return undefined;
  try {
    return JSON.parse(turn.text) as HandoffNote;
  } catch {
    return undefined;
  }
}

/**
 * A tool turn's output, parsed. Undefined when it is not JSON: a tool that failed answers with an
 * error string, and established nothing.
 */
export function parseToolOutput<T>(turn: Turn): T | undefined {
  try {
    return JSON.parse(turn.text) as T;
  } catch {
    return undefined;
  }
}

/** The newest output of a tool, parsed; undefined when absent or not JSON. */
export function lastToolOutput<T>(history: readonly Turn[], tool: string): T | undefined {
  const turn = [...history].reverse().find((t) => t.role === 'tool' && t.tool === tool);
  return turn && parseToolOutput<T>(turn);
}

/** How many agent turns in a row, counting back from the last, satisfy `isFallback`. */
export function consecutiveAgentTurns(history: readonly Turn[], isFallback: (text: string) => boolean): number {
  let count = 0;
  for (const turn of [...history].reverse()) {
    if (turn.role !== 'assistant') continue;
    if (!isFallback(turn.text)) break;
    count += 1;
  }
  return count;
}

/** What the caller said, oldest first. */
export function userTexts(history: readonly Turn[]): string[] {
  return history.filter((t) => t.role === 'user').map((t) => t.text);
}
