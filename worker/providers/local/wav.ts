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
