/**
 * `npm run bench`: ranged against send, sirv, nginx, curl and aria2c, measured in the same run,
 * interleaved round by round, reported as medians and ratios. Writes bench/results/<time>.json,
 * latest.json and latest.svg. See docs-bench.md for what each section measures.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderChart } from './chart.js';
import { type BenchConfig, configFromEnv, type Fixtures, writeFixtures } from './config.js';
import { clientDownloads, type GetContext } from './get.js';
import { hostileClients } from './hostile.js';
import { journalCost } from './journal.js';
import { linearity } from './linearity.js';
import { type RunningPeer, type ServerName, startNginx, startNodePeer } from './peers.js';
import { cleanup, installCleanupHandlers, peakRss, trackDir } from './procs.js';
import { putSection } from './put.js';
import { s3Section } from './s3.js';
import { scalingConnections } from './scaling.js';
import { bigTransfers, multipartRanges, type ServeContext, smallRanges } from './serve.js';
import { formatNumber, formatRatio, measurement, type Section } from './stats.js';
import { throttledDownloads } from './throttle.js';
import { tlsSection } from './tls.js';
import { uploadSection } from './upload.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const resultsDir = join(repoRoot, 'bench', 'results');

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function firstLine(command: string, args: string[]): string {
  try {
    const out = execFileSync(command, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return out.split('\n')[0]?.trim() ?? '';
  } catch (error) {
    // nginx -v and wrk -v print to stderr (wrk also exits 1).
    const e = error as { stderr?: string; stdout?: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}`.split('\n')[0]?.trim() ?? 'unknown';
  }
}

function nginxVersion(): string {
  // `nginx -v` prints to stderr and exits 0.
  const result = spawnSync('/usr/sbin/nginx', ['-v'], { encoding: 'utf8' });
  return `${result.stdout ?? ''}${result.stderr ?? ''}`.trim() || 'unknown';
}

function packageVersion(name: string): string {
  try {
    const path = join(repoRoot, 'node_modules', name, 'package.json');
    return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function machine() {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Number((totalmem() / 1024 ** 3).toFixed(1)),
    kernel: release(),
    node: process.version,
    nginx: nginxVersion(),
    wrk: firstLine('wrk', ['-v']),
    h2load: firstLine('h2load', ['--version']),
    curl: firstLine('curl', ['--version']),
    aria2c: firstLine('aria2c', ['--version']),
    send: packageVersion('send'),
    sirv: packageVersion('sirv'),
    commit: firstLine('git', ['-C', repoRoot, 'rev-parse', '--short', 'HEAD']),
  };
}

function printTable(config: BenchConfig, sections: Section[], seconds: number): string {
  const lines: string[] = [];
  const mode = config.quick ? 'BENCH_QUICK smoke run' : 'full run';
  lines.push(
    `ranged bench: ${mode}, ${config.rounds} interleaved rounds, medians (samples in brackets), ${Math.round(seconds)} s`,
  );
  for (const section of sections) {
    lines.push('', `## ${section.title}`);
    if (section.skipped !== undefined) {
      lines.push(`  ${section.skipped}`);
      // A section may be skipped in part (a server not available) and still have figures.
      if (section.measurements.length === 0) continue;
    }
    const width = Math.max(...section.measurements.map((m) => m.label.length), 10);
    for (const m of section.measurements) {
      const notes =
        m.notes === undefined
          ? ''
          : `  ${Object.entries(m.notes)
              .map(([k, v]) => `${k}=${v}`)
              .join(' ')}`;
      const samples = m.samples.length > 1 ? `  [${m.samples.map(formatNumber).join(', ')}]` : '';
      lines.push(
        `  ${m.label.padEnd(width)}  ${formatNumber(m.median).padStart(10)} ${m.unit}${samples}${notes}`,
      );
    }
    for (const r of section.ratios) {
      const value =
        r.unit === undefined
          ? formatRatio(r.value, r.floor?.limit)
          : `${formatNumber(r.value)} ${r.unit}`;
      lines.push(`  → ${r.label}: ${value}`);
    }
  }
  const floors = sections.flatMap((s) => s.ratios.filter((r) => r.floor !== undefined));
  if (floors.length > 0) lines.push('', '## Floors');
  for (const r of floors) {
    const f = r.floor;
    if (f === undefined) continue;
    const unit = r.unit ?? 'x';
    const value = unit === 'x' ? formatRatio(r.value, f.limit) : `${formatNumber(r.value)} ${unit}`;
    const limit = unit === 'x' ? `${f.limit}x` : `${f.limit} ${unit}`;
    lines.push(
      `${r.pass ? 'PASS' : 'FAIL'}  issue ${f.issue}: ${r.label} = ${value} (needs ${f.op} ${limit})`,
    );
  }
  for (const s of sections) {
    if (s.skipped !== undefined) lines.push(`SKIP  ${s.title}: ${s.skipped}`);
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<number> {
  installCleanupHandlers();
  const config = configFromEnv(process.env);
  const started = performance.now();
  const base = process.env.BENCH_DIR ?? tmpdir();
  const tmp = trackDir(await mkdtemp(join(base, 'ranged-bench-')));
  const root = join(tmp, 'files');
  const scratch = join(tmp, 'scratch');
  await mkdir(root, { recursive: true });
  await mkdir(scratch, { recursive: true });

  log(
    `ranged bench: ${config.quick ? 'quick' : 'full'} run, sections ${config.sections.join(', ')}, temp ${tmp}`,
  );
  // The hostile, upload, put and s3 sections bring their own files and servers; the others share
  // these.
  const own: readonly string[] = ['hostile', 'upload', 'put', 's3'];
  const shared = config.sections.some((id) => !own.includes(id));
  const fixtures: Fixtures | undefined = shared ? await writeFixtures(root, config) : undefined;
  if (fixtures !== undefined) {
    log(`  fixtures written (${Math.round(performance.now() - started)} ms)`);
  }

  const peers = new Map<ServerName, RunningPeer>();
  const sections: Section[] = [];
  try {
    const steps: Array<[string, () => Promise<Section>]> = [];
    if (fixtures !== undefined) {
      const started = await Promise.all([
        startNodePeer('ranged', root, config.rangedModule),
        startNodePeer('send', root),
        startNodePeer('sirv', root),
        startNginx(root, join(tmp, 'nginx')),
        ...(config.baselineModule === undefined
          ? []
          : [startNodePeer('baseline', root, config.baselineModule)]),
      ]);
      for (const p of started) peers.set(p.name, p);
      log(`  servers: ${started.map((p) => `${p.name} ${p.origin}`).join(', ')}`);

      const ctx: ServeContext = { config, fixtures, peers, scratch, log };
      if (config.sections.includes('small')) steps.push(['small', () => smallRanges(ctx)]);
      if (config.sections.includes('big')) steps.push(['big', () => bigTransfers(ctx)]);
      if (config.sections.includes('multipart'))
        steps.push(['multipart', () => multipartRanges(ctx)]);
      const client = (section: (ctx: GetContext) => Promise<Section>) => () => {
        const nginx = peers.get('nginx');
        if (nginx === undefined)
          throw new Error('Cannot run a client section: nginx is not running');
        return section({ config, fixtures, nginx, scratch, log });
      };
      if (config.sections.includes('get')) steps.push(['get', client(clientDownloads)]);
      if (config.sections.includes('scaling'))
        steps.push(['scaling', () => scalingConnections(ctx)]);
      if (config.sections.includes('throttle'))
        steps.push(['throttle', client(throttledDownloads)]);
      if (config.sections.includes('linearity')) steps.push(['linearity', client(linearity)]);
      if (config.sections.includes('journal')) steps.push(['journal', client(journalCost)]);
      if (config.sections.includes('tls'))
        steps.push(['tls', () => tlsSection({ ...ctx, dir: join(tmp, 'tls') })]);
    }
    if (config.sections.includes('hostile')) {
      steps.push(['hostile', () => hostileClients({ config, scratch, log })]);
    }
    if (config.sections.includes('upload')) {
      steps.push(['upload', () => uploadSection({ config, scratch, log })]);
    }
    if (config.sections.includes('put')) {
      steps.push(['put', () => putSection({ config, scratch, log })]);
    }
    if (config.sections.includes('s3')) {
      steps.push(['s3', () => s3Section({ config, scratch, log })]);
    }
    for (const [id, step] of steps) {
      log(`section ${id}`);
      try {
        sections.push(await step());
      } catch (error) {
        log(`  section ${id} failed: ${(error as Error).stack ?? String(error)}`);
        sections.push({
          id,
          title: id,
          measurements: [],
          ratios: [],
          skipped: `failed: ${(error as Error).message}`,
        });
      }
    }

    // Peak memory of each server over the whole run (VmHWM), for the record.
    const rss: Section = {
      id: 'servers',
      title: 'Server peak RSS over the run, MiB',
      measurements: [],
      ratios: [],
    };
    for (const p of peers.values()) {
      const peak = await peakRss(p.pid);
      if (peak !== undefined)
        rss.measurements.push(measurement('servers', p.name, 'MiB', [peak / 1024 ** 2]));
    }
    if (peers.size > 0) sections.push(rss);
  } finally {
    await Promise.allSettled([...peers.values()].map((p) => p.stop()));
    cleanup();
  }

  const seconds = (performance.now() - started) / 1000;
  const table = printTable(config, sections, seconds);
  process.stdout.write(table);

  const when = new Date();
  const info = machine();
  const result = {
    date: when.toISOString(),
    seconds: Math.round(seconds),
    config,
    machine: info,
    sections,
  };
  await mkdir(resultsDir, { recursive: true });
  const json = `${JSON.stringify(result, null, 2)}\n`;
  const stamp = when.toISOString().replace(/[:.]/g, '-');
  await writeFile(join(resultsDir, `${stamp}.json`), json);
  await writeFile(join(resultsDir, 'latest.json'), json);
  await writeFile(join(resultsDir, 'latest.txt'), table);
  const subtitle = `${when.toISOString().slice(0, 16)}Z · ${info.cores} × ${info.cpu} · Node ${info.node} · ${config.quick ? 'BENCH_QUICK' : 'full run'}, median of ${config.rounds} interleaved rounds · commit ${info.commit}`;
  await writeFile(
    join(resultsDir, 'latest.svg'),
    renderChart('ranged benchmark', subtitle, sections),
  );
  log(`results: ${join(resultsDir, `${stamp}.json`)}, latest.json, latest.svg`);
  const failed = sections.some((s) => s.skipped?.startsWith('failed'));
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    log(`bench failed: ${(error as Error).stack ?? String(error)}`);
    cleanup();
    process.exitCode = 1;
  },
);
