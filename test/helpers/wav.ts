/** A real PCM WAV file (RIFF, 16-bit little-endian) of a sine tone, generated in the test. */

export interface WavOptions {
  /** Length in seconds. @default 30 */
  seconds?: number;
  /** Samples per second. @default 44_100 */
  sampleRate?: number;
  /** 1 (mono) or 2 (stereo). @default 2 */
  channels?: number;
  /** Tone frequency in Hz. @default 440 */
  frequency?: number;
}

/** Builds the bytes of a WAV file: a 44-byte header, then interleaved 16-bit samples. */
export function sineWav(options: WavOptions = {}): Buffer {
  const seconds = options.seconds ?? 30;
  const rate = options.sampleRate ?? 44_100;
  const channels = options.channels ?? 2;
  const frequency = options.frequency ?? 440;
  const frames = Math.round(seconds * rate);
  const blockAlign = channels * 2;
  const dataBytes = frames * blockAlign;
  const buf = Buffer.alloc(44 + dataBytes);
  buf.write('RIFF', 0, 'latin1');
  buf.writeUInt32LE(36 + dataBytes, 4);
  buf.write('WAVE', 8, 'latin1');
  buf.write('fmt ', 12, 'latin1');
  buf.writeUInt32LE(16, 16); // fmt chunk size
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(channels, 22);
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * blockAlign, 28); // byte rate
  buf.writeUInt16LE(blockAlign, 32);
  buf.writeUInt16LE(16, 34); // bits per sample
  buf.write('data', 36, 'latin1');
  buf.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < frames; i++) {
    const sample = Math.round(Math.sin((2 * Math.PI * frequency * i) / rate) * 0.25 * 32767);
    for (let c = 0; c < channels; c++) buf.writeInt16LE(sample, 44 + i * blockAlign + c * 2);
  }
  return buf;
}
