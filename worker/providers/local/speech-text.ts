/**
 * Rewrites reply text into what the local engines pronounce well. Cloud TTS handles these
 * itself; flite and espeak-ng read "3pm" as "three pee em" run together and spell out symbols.
 */
export function textForSpeech(text: string): string {
  return text
    .replace(/[*_#`~>|]+/g, ' ')
    .replace(/\p{Extended_Pictographic}/gu, ' ')
    .replace(/&/g, ' and ')
    .replace(/\b(\d{1,2})(?::(\d{2}))?\s*([ap])\.?\s*m\b\.?/gi, (_m, h: string, min: string | undefined, ap: string) =>
      `${h}${min && min !== '00' ? ` ${min}` : ''} ${ap.toUpperCase()} M`,
    )
    .replace(/\s+/g, ' ')
    .trim();
}
