/**
 * The tls section (issue 11): ranged and nginx over HTTPS with the same self-signed certificate,
 * each in a second process of its own (`startServer({ tls })` through server-child.js, and nginx
 * with `listen … ssl http2`). Small ranges over HTTP/2 (h2load, else a Node load generator) and
 * over HTTPS/1.1 (wrk), and the big file over one connection with curl `--http2` and `--http1.1`.
 * Reported beside each other with ranged / nginx ratios; no floors yet.
 */
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sizeLabel } from './config.js';
import { curlHttps, h2Generator, h2Load } from './h2.js';
import { type RunningPeer, startNginx, startNodePeer, type TlsFiles } from './peers.js';
import type { ServeContext } from './serve.js';
import { interleave, measurement, ratio, type Section } from './stats.js';
import { wrk, wrkRangeScript } from './tools.js';

/** HTTP/2 load shape: 4 sessions × 8 streams, the same 32 requests in flight as wrk's 32. */
const SESSIONS = 4;
const STREAMS = 8;

/** A P-256 key and a self-signed certificate for IP 127.0.0.1 in `dir` (as test/helpers/tls.ts). */
export function makeCertificate(dir: string): TlsFiles {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'],
      ...['-nodes', '-keyout', key, '-out', cert, '-days', '30'],
      ...['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

type Name = 'ranged' | 'nginx';
type Kind = 'h2-small' | 'h1-small' | 'h2-big' | 'h1-big';

export async function tlsSection(ctx: ServeContext & { dir: string }): Promise<Section> {
  const { config, fixtures } = ctx;
  await mkdir(ctx.dir, { recursive: true });
  const files = makeCertificate(ctx.dir);
  const generator = h2Generator();
  const section: Section = {
    id: 'tls',
    title: `HTTPS, same self-signed P-256 certificate: ${config.smallRange} of ${sizeLabel(fixtures.small.size)} over HTTP/2 (${generator === 'h2load' ? 'h2load' : `Node http2 load generator, ${process.env.BENCH_H2_LOADER === 'node' ? 'BENCH_H2_LOADER=node' : 'h2load not installed'}`}, ${SESSIONS} sessions × ${STREAMS} streams) and HTTPS/1.1 (wrk, ${config.connections} connections), req/s; GET ${sizeLabel(fixtures.big.size)} over one connection (curl --http2 / --http1.1), MB/s`,
    measurements: [],
    ratios: [],
  };
  const peers = new Map<Name, RunningPeer>();
  try {
    // Each peer is kept as soon as it runs, so `finally` stops it even if the other failed.
    const started = await Promise.allSettled([
      startNodePeer('ranged', fixtures.root, config.rangedModule, files).then((p) =>
        peers.set('ranged', p),
      ),
      startNginx(fixtures.root, join(ctx.dir, 'nginx'), { tls: files }).then((p) =>
        peers.set('nginx', p),
      ),
    ]);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    ctx.log(
      `  tls servers: ${[...peers.values()].map((p) => `${p.name} ${p.origin}`).join(', ')}; HTTP/2 load by ${generator}`,
    );
    const url = (name: Name, file: string) => `${peers.get(name)?.origin}/${file}`;
    const names: Name[] = ['ranged', 'nginx'];

    // Both answer the range with 206 and 1024 bytes over either protocol.
    for (const name of names) {
      for (const protocol of ['2', '1.1'] as const) {
        const res = await curlHttps(url(name, fixtures.small.name), protocol, {
          range: config.smallRange,
        });
        if (res.status !== 206 || res.body !== 1024) {
          throw new Error(
            `Cannot benchmark ${name} over HTTP/${protocol}: expected 206 with 1024 bytes, got ${res.status} with ${res.body}`,
          );
        }
      }
    }
    const script = await wrkRangeScript(ctx.scratch, 'tls-small', config.smallRange);
    const small = async (kind: Kind, name: Name, seconds: number) => {
      const target = url(name, fixtures.small.name);
      if (kind === 'h2-small') {
        const r = await h2Load(target, {
          sessions: SESSIONS,
          streams: STREAMS,
          seconds,
          range: config.smallRange,
          bodyBytes: 1024,
        });
        return { rate: r.requestsPerSec, errors: r.errors };
      }
      const r = await wrk(target, {
        script,
        connections: config.connections,
        threads: config.threads,
        seconds,
      });
      return { rate: r.requestsPerSec, errors: r.errors };
    };
    // Warm-up: one untimed run of each load, and the big file through each server once.
    for (const name of names) {
      await small('h2-small', name, config.warmupSeconds);
      await small('h1-small', name, config.warmupSeconds);
      await curlHttps(url(name, fixtures.big.name), '2', { timeoutMs: 300_000 });
    }

    const kinds: Kind[] = ['h2-small', 'h1-small', 'h2-big', 'h1-big'];
    const items = kinds.flatMap((kind) => names.map((name) => `${kind}:${name}` as const));
    const errors = new Map<string, number>();
    const samples = await interleave(items, config.rounds, async (item, round) => {
      const [kind, name] = item.split(':') as [Kind, Name];
      if (kind === 'h2-small' || kind === 'h1-small') {
        const r = await small(kind, name, config.wrkSeconds);
        errors.set(item, (errors.get(item) ?? 0) + r.errors);
        ctx.log(
          `  tls    round ${round + 1} ${kind.padEnd(8)} ${name.padEnd(6)} ${Math.round(r.rate)} req/s`,
        );
        return r.rate;
      }
      const protocol = kind === 'h2-big' ? '2' : '1.1';
      const res = await curlHttps(url(name, fixtures.big.name), protocol, { timeoutMs: 300_000 });
      if (res.status !== 200 || res.body !== fixtures.big.size) {
        throw new Error(
          `Cannot benchmark ${name} over HTTP/${protocol}: expected 200 with ${fixtures.big.size} bytes, got ${res.status} with ${res.body}`,
        );
      }
      const mbps = res.speed / 1e6;
      ctx.log(
        `  tls    round ${round + 1} ${kind.padEnd(8)} ${name.padEnd(6)} ${Math.round(mbps)} MB/s`,
      );
      return mbps;
    });

    const labels: Record<Kind, string> = {
      'h2-small': 'small range HTTP/2',
      'h1-small': 'small range HTTPS/1.1',
      'h2-big': `GET ${sizeLabel(fixtures.big.size)} HTTP/2`,
      'h1-big': `GET ${sizeLabel(fixtures.big.size)} HTTPS/1.1`,
    };
    for (const kind of kinds) {
      const unit = kind.endsWith('small') ? 'req/s' : 'MB/s';
      for (const name of names) {
        const item = `${kind}:${name}`;
        const row = measurement(
          'tls',
          `${name} ${labels[kind]}`,
          unit,
          samples.get(item as (typeof items)[number]) ?? [],
          unit === 'req/s'
            ? {
                errors: errors.get(item) ?? 0,
                generator: kind === 'h2-small' ? generator : 'wrk',
              }
            : undefined,
        );
        row.id = `tls.${kind}.${name}`;
        section.measurements.push(row);
      }
      const m = (name: Name) =>
        section.measurements.find((x) => x.id === `tls.${kind}.${name}`)?.median ?? Number.NaN;
      // No floor yet (issue 11 asks for the figures): printed as reports.
      section.ratios.push(
        ratio(
          `tls.${kind}.ranged/nginx`,
          `${labels[kind]}: ranged / nginx`,
          m('ranged'),
          m('nginx'),
        ),
      );
    }
    return section;
  } finally {
    await Promise.allSettled([...peers.values()].map((p) => p.stop()));
  }
}
