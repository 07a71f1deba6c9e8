/**
 * Minimal RIFF/WAVE reading and writing for 16-bit PCM, the only format the local speech engines
 * and the test caller exchange.
 */

export interface Pcm16 {
  sampleRate: number;
  channels: number;
  samples: Int16Array;
}

export class WavFormatError extends Error {
  override name = 'WavFormatError';
}

export interface WavHeader {
  sampleRate: number;
  channels: number;
  /** Offset of the first PCM byte. */
  dataOffset: number;
  /** Size the data chunk declares; engines writing to a pipe leave a placeholder here. */
  declaredDataBytes: number;
}

/**
 * Reads a 16-bit PCM WAV header; undefined while `buffer` ends before the data chunk starts (a
 * stream still arriving). Throws for anything that is not 16-bit PCM WAV.
 */
export function readWavHeader(buffer: Buffer): WavHeader | undefined {
  if (buffer.length < 12) return undefined;
  if (buffer.toString('ascii', 0, 4) !== 'RIFF' || buffer.toString('ascii', 8, 12) !== 'WAVE') {
    throw new WavFormatError('not a RIFF/WAVE file');
  }
  let format: { sampleRate: number; channels: number } | undefined;
  let offset = 12;
  while (offset + 8 <= buffer.length) {
    const id = buffer.toString('ascii', offset, offset + 4);
    const declared = buffer.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'data') {
      if (!format) throw new WavFormatError('data chunk before fmt chunk');
      return { ...format, dataOffset: body, declaredDataBytes: declared };
    }
    if (body + declared > buffer.length) return undefined;
    if (id === 'fmt ') {
      const code = buffer.readUInt16LE(body);
      const bits = buffer.readUInt16LE(body + 14);
      if (code !== 1 || bits !== 16) throw new WavFormatError(`unsupported WAV format ${code}/${bits} bit`);
      format = { channels: buffer.readUInt16LE(body + 2), sampleRate: buffer.readUInt32LE(body + 4) };
    }
    offset = body + declared + (declared % 2);
  }
  return undefined;
}

/** One array holding the chunks' samples in order. */
export function concatSamples(chunks: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** Little-endian 16-bit samples from an even number of bytes. */
export function samplesOf(bytes: Buffer): Int16Array {
  const samples = new Int16Array(bytes.length >> 1);
  for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(i * 2);
  return samples;
}

export function parseWav(buffer: Buffer): Pcm16 {
  const header = readWavHeader(buffer);
  if (!header) throw new WavFormatError('no data chunk');
  const end = Math.min(buffer.length, header.dataOffset + header.declaredDataBytes);
  const samples = samplesOf(buffer.subarray(header.dataOffset, end));
  return { sampleRate: header.sampleRate, channels: header.channels, samples };
}

export function encodeWav({ sampleRate, channels, samples }: Pcm16): Buffer {
  const header = Buffer.alloc(44);
  const dataBytes = samples.length * 2;
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  return Buffer.concat([header, Buffer.from(samples.buffer, samples.byteOffset, dataBytes)]);
}

/** Root-mean-square level of 16-bit samples, in 0..1 of full scale. */
export function rmsLevel(samples: Int16Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (const s of samples) sum += s * s;
  return Math.sqrt(sum / samples.length) / 32768;
}

/**
 * `pcm` from just before its first sound. The first `windowMs` window at `speechRms` or louder is
 * speech; it starts at the earliest window of the unbroken run at `thresholdRms` or louder that
 * leads up to it, and all before that, less `keepMs` of lead-in, is cut. Audio with no speech is
 * left whole.
 */
export function trimLeadingSilence(pcm: Pcm16, options: { thresholdRms: number; speechRms: number; windowMs: number; keepMs: number }): Pcm16 {
  const frame = pcm.channels;
  const window = Math.max(1, Math.round((pcm.sampleRate * options.windowMs) / 1000)) * frame;
  const level = (start: number) => rmsLevel(pcm.samples.subarray(start, start + window));
  for (let speech = 0; speech < pcm.samples.length; speech += window) {
    if (level(speech) < options.speechRms) continue;
    // Back from the first clear speech through its soft onset (a breathy "th"), but not over a
    // click the engine left in the silence before it.
    let start = speech;
    while (start - window >= 0 && level(start - window) >= options.thresholdRms) start -= window;
    const from = Math.max(0, start - Math.round((pcm.sampleRate * options.keepMs) / 1000) * frame);
    // A copy, not a view: the native resampler reads a frame's whole underlying buffer.
    return from === 0 ? pcm : { ...pcm, samples: pcm.samples.slice(from) };
  }
  return pcm;
}

/**
 * How long mono `samples` stay below `thresholdRms` at their end, in whole `windowMs` windows: the
 * tail a listener hears as silence. All of it for audio that never reaches the level.
 */
export function trailingSilenceMs(samples: Int16Array, sampleRate: number, options: { thresholdRms: number; windowMs: number }): number {
  const window = Math.max(1, Math.round((sampleRate * options.windowMs) / 1000));
  let end = samples.length;
  while (end > 0 && rmsLevel(samples.subarray(Math.max(0, end - window), end)) < options.thresholdRms) end -= window;
  return (Math.max(0, samples.length - Math.max(0, end)) * 1000) / sampleRate;
}
