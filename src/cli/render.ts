/**
 * Progress text for `ranged get` (pure: a progress value in, a string out).
 */
import { formatBytes } from '../core/format-bytes.js';

/** The facts a progress line shows (a subset of DownloadProgress and of UploadProgress). */
export interface ProgressView {
  state: 'connecting' | 'downloading' | 'uploading' | 'paused' | 'verifying' | 'done';
  bytes: number;
  total: number | undefined;
  bytesPerSecond: number;
  etaSeconds: number | undefined;
  connections: number;
}

/** Sizes as the whole tool writes them (IEC binary units, see core/format-bytes.ts). */
export { formatBytes };

/** `0:05`, `1:02:03`; `--:--` when unknown. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

function percent(p: ProgressView): string | undefined {
  if (p.total === undefined) return undefined;
  const value = p.total === 0 ? 100 : Math.min(100, Math.floor((p.bytes * 100) / p.total));
  return `${value}%`;
}

function details(p: ProgressView): string {
  const size =
    p.total === undefined
      ? formatBytes(p.bytes)
      : `${formatBytes(p.bytes)} / ${formatBytes(p.total)}`;
  if (p.state === 'paused') return `${size}  paused (r or Enter resumes)`;
  if (p.state === 'verifying') return `${size}  verifying`;
  if (p.state === 'connecting') return `${size}  connecting`;
  if (p.state === 'done') return `${size}  done`;
  const conn = p.connections === 1 ? '1 connection' : `${p.connections} connections`;
  return `${size}  ${formatBytes(Math.round(p.bytesPerSecond))}/s  ETA ${formatDuration(p.etaSeconds)}  ${conn}`;
}

/**
 * A live bar for a terminal `width` columns wide:
 * `[#########...........]  45%  4.5 MiB / 10.0 MiB  1.2 MiB/s  ETA 0:05  4 connections`.
 * Never longer than `width` (the details are cut when the terminal is narrow).
 */
export function renderBar(p: ProgressView, options: { width: number }): string {
  const pct = percent(p) ?? '';
  const text = `${pct.padStart(pct === '' ? 0 : 4)}  ${details(p)}`;
  const room = options.width - text.length - 3;
  if (room < 10) return text.slice(0, Math.max(0, options.width - 1));
  const barWidth = Math.min(40, room);
  let filled: number;
  if (p.total === undefined || p.total === 0) filled = p.total === 0 ? barWidth : 0;
  else filled = Math.min(barWidth, Math.floor((p.bytes * barWidth) / p.total));
  return `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${text}`;
}

/** One short line for logs (not a terminal): `45%  4.5 MiB / 10.0 MiB  1.2 MiB/s  ETA 0:05  4 connections`. */
export function renderLine(p: ProgressView): string {
  const pct = percent(p);
  return pct === undefined ? details(p) : `${pct}  ${details(p)}`;
}
