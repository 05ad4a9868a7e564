/**
 * Server sections: small ranges (wrk), big transfers (curl, one connection) and multipart ranges.
 */
import { type BenchConfig, type Fixtures, sizeLabel } from './config.js';
import type { RunningPeer, ServerName } from './peers.js';
import { cpuSeconds } from './procs.js';
import { check, interleave, measurement, median, ratio, type Section } from './stats.js';
import { curl, type WrkOptions, type WrkResult, wrk, wrkRangeScript } from './tools.js';

export interface ServeContext {
  config: BenchConfig;
  fixtures: Fixtures;
  peers: Map<ServerName, RunningPeer>;
  /** Scratch folder for wrk scripts. */
  scratch: string;
  log: (line: string) => void;
}

/** The servers of the server sections, with `baseline` when BENCH_BASELINE names a build. */
function serverNames(ctx: ServeContext): ServerName[] {
  const names: ServerName[] = ['ranged', 'send', 'sirv', 'nginx'];
  return ctx.peers.has('baseline') ? [...names, 'baseline'] : names;
}

/** One wrk run with the server's CPU time per request (user + system, from /proc). */
async function loadRun(
  server: RunningPeer,
  target: string,
  options: WrkOptions,
): Promise<WrkResult & { cpuMicrosPerRequest: number }> {
  const before = await cpuSeconds(server.pid);
  const result = await wrk(target, options);
  const used = (await cpuSeconds(server.pid)) - before;
  return { ...result, cpuMicrosPerRequest: (used * 1e6) / Math.max(1, result.requests) };
}

const url = (peer: RunningPeer, name: string) => `${peer.origin}/${name}`;

export function peer(ctx: ServeContext, name: ServerName): RunningPeer {
  const found = ctx.peers.get(name);
  if (found === undefined) throw new Error(`Cannot measure ${name}: it is not running`);
  return found;
}

/** 1. `Range: bytes=1000-2023` of the 10 MiB file, keep-alive, 32 connections. */
export async function smallRanges(ctx: ServeContext): Promise<Section> {
  const { config, fixtures } = ctx;
  const section: Section = {
    id: 'small',
    title: `Small range: ${config.smallRange} of ${sizeLabel(fixtures.small.size)}, ${config.connections} connections, req/s`,
    measurements: [],
    ratios: [],
  };
  const servers = serverNames(ctx);
  for (const name of servers) {
    const res = await curl(url(peer(ctx, name), fixtures.small.name), { range: config.smallRange });
    if (res.status !== 206 || res.body !== 1024) {
      throw new Error(
        `Cannot benchmark ${name}: expected 206 with 1024 bytes, got ${res.status} with ${res.body}`,
      );
    }
  }
  const script = await wrkRangeScript(ctx.scratch, 'small', config.smallRange);
  const wrkOptions = {
    script,
    connections: config.connections,
    threads: config.threads,
    seconds: config.wrkSeconds,
  };
  for (const name of servers) {
    await wrk(url(peer(ctx, name), fixtures.small.name), {
      ...wrkOptions,
      seconds: config.warmupSeconds,
    });
  }
  const perRequest = new Map<ServerName, number>();
  const errors = new Map<ServerName, number>();
  const cpu = new Map<ServerName, number[]>(servers.map((name) => [name, []]));
  const samples = await interleave(servers, config.rounds, async (name, round) => {
    const server = peer(ctx, name);
    const result = await loadRun(server, url(server, fixtures.small.name), wrkOptions);
    perRequest.set(name, result.bytesPerRequest);
    errors.set(name, (errors.get(name) ?? 0) + result.errors);
    cpu.get(name)?.push(result.cpuMicrosPerRequest);
    ctx.log(
      `  small  round ${round + 1} ${name.padEnd(8)} ${Math.round(result.requestsPerSec)} req/s, ${result.cpuMicrosPerRequest.toFixed(1)} µs CPU/req`,
    );
    return result.requestsPerSec;
  });
  for (const name of servers) {
    section.measurements.push(
      measurement('small', name, 'req/s', samples.get(name) ?? [], {
        bytesPerResponse: Math.round(perRequest.get(name) ?? 0),
        errors: errors.get(name) ?? 0,
      }),
    );
  }
  for (const name of servers) {
    const row = measurement('small-cpu', name, 'µs CPU/req (lower is better)', cpu.get(name) ?? []);
    row.label = `${name} (server CPU)`;
    section.measurements.push(row);
  }
  const m = (name: string) =>
    section.measurements.find((x) => x.id === `small.${name}`)?.median ?? Number.NaN;
  const c = (name: string) =>
    section.measurements.find((x) => x.id === `small-cpu.${name}`)?.median ?? Number.NaN;
  section.ratios.push(
    ratio('small.ranged/send', 'small ranges: ranged / send', m('ranged'), m('send'), {
      issue: 2,
      op: '>=',
      limit: 1.0,
    }),
    ratio('small.ranged/nginx', 'small ranges: ranged / nginx', m('ranged'), m('nginx'), {
      issue: 5,
      op: '>=',
      limit: 0.6,
    }),
    ratio('small.ranged/sirv', 'small ranges: ranged / sirv', m('ranged'), m('sirv')),
    // CPU per request is the steadier figure on a shared machine: lower is better, so peer/ranged.
    ratio('small.cpu.send/ranged', 'small ranges CPU/req: send / ranged', c('send'), c('ranged')),
    ratio(
      'small.cpu.nginx/ranged',
      'small ranges CPU/req: nginx / ranged',
      c('nginx'),
      c('ranged'),
    ),
  );
  if (servers.includes('baseline')) {
    section.ratios.push(
      ratio('small.ranged/baseline', 'small ranges: ranged / baseline', m('ranged'), m('baseline')),
      ratio(
        'small.cpu.baseline/ranged',
        'small ranges CPU/req: baseline / ranged',
        c('baseline'),
        c('ranged'),
      ),
    );
  }
  return section;
}

/** 2. Full GETs of the big files and one large range, one connection, MB/s (10^6 bytes). */
export async function bigTransfers(ctx: ServeContext): Promise<Section> {
  const { config, fixtures } = ctx;
  const largeRangeEnd = fixtures.mid.size - 1;
  const cases = [
    { key: 'full-big', file: fixtures.big, range: undefined, bytes: fixtures.big.size },
    ...(fixtures.mid === fixtures.big
      ? []
      : [{ key: 'full-mid', file: fixtures.mid, range: undefined, bytes: fixtures.mid.size }]),
    {
      key: 'range-mid',
      file: fixtures.big,
      range: `bytes=0-${largeRangeEnd}`,
      bytes: largeRangeEnd + 1,
    },
  ] as const;
  const caseTitle = (key: string) => {
    const c = cases.find((x) => x.key === key);
    if (c === undefined) return key;
    return c.range === undefined
      ? `GET ${sizeLabel(c.bytes)}`
      : `range ${sizeLabel(c.bytes)} of ${sizeLabel(c.file.size)}`;
  };
  const section: Section = {
    id: 'big',
    title: `Big transfers over one connection (curl), MB/s; the range is ${cases.find((c) => c.range !== undefined)?.range}`,
    measurements: [],
    ratios: [],
  };
  const servers = serverNames(ctx);
  const items = cases.flatMap((c) => servers.map((s) => `${c.key}:${s}`));
  // Warm the page cache and every server's code path once.
  for (const s of servers) await curl(url(peer(ctx, s), fixtures.big.name));
  const cpu = new Map<string, number[]>(items.map((item) => [item, []]));
  const samples = await interleave(items, config.rounds, async (item, round) => {
    const [key, name] = item.split(':') as [string, ServerName];
    const c = cases.find((x) => x.key === key);
    if (c === undefined) throw new Error(`Cannot find case ${key}`);
    const server = peer(ctx, name);
    const before = await cpuSeconds(server.pid);
    const res = await curl(url(server, c.file.name), {
      ...(c.range === undefined ? {} : { range: c.range }),
      timeoutMs: 300_000,
    });
    const cpuMsPerGB = (((await cpuSeconds(server.pid)) - before) * 1e3) / (c.bytes / 1e9);
    cpu.get(item)?.push(cpuMsPerGB);
    const expectedStatus = c.range === undefined ? 200 : 206;
    if (res.status !== expectedStatus || res.body !== c.bytes) {
      throw new Error(
        `Cannot benchmark ${name} on ${key}: expected ${expectedStatus} with ${c.bytes} bytes, got ${res.status} with ${res.body}`,
      );
    }
    const mbps = res.speed / 1e6;
    ctx.log(
      `  big    round ${round + 1} ${key.padEnd(9)} ${name.padEnd(8)} ${Math.round(mbps)} MB/s, ${Math.round(cpuMsPerGB)} ms CPU/GB`,
    );
    return mbps;
  });
  for (const item of items) {
    const [key, name] = item.split(':') as [string, string];
    section.measurements.push(
      measurement('big', `${name} ${caseTitle(key)}`, 'MB/s', samples.get(item) ?? [], {
        serverCpuMsPerGB: Math.round(median(cpu.get(item) ?? [])),
      }),
    );
    const last = section.measurements[section.measurements.length - 1];
    if (last !== undefined) last.id = `big.${key}.${name}`;
  }
  const m = (key: string, name: string) =>
    section.measurements.find((x) => x.id === `big.${key}.${name}`)?.median ?? Number.NaN;
  for (const c of cases) {
    const title = caseTitle(c.key);
    // Issue 2's floor is on the 1 GiB download only.
    const floor = c.key === 'full-big' ? { issue: 2, op: '>=' as const, limit: 1.0 } : undefined;
    section.ratios.push(
      ratio(
        `big.${c.key}.ranged/send`,
        `${title}: ranged / send`,
        m(c.key, 'ranged'),
        m(c.key, 'send'),
        floor,
      ),
    );
    if (servers.includes('baseline')) {
      section.ratios.push(
        ratio(
          `big.${c.key}.ranged/baseline`,
          `${title}: ranged / baseline`,
          m(c.key, 'ranged'),
          m(c.key, 'baseline'),
        ),
      );
    }
    section.ratios.push(
      ratio(
        `big.${c.key}.ranged/nginx`,
        `${title}: ranged / nginx`,
        m(c.key, 'ranged'),
        m(c.key, 'nginx'),
        {
          issue: 5,
          op: '>=',
          limit: 0.9,
        },
      ),
    );
  }
  return section;
}

/** 3. Two 1 KiB ranges: bytes on the wire and req/s against ranged's own single range. */
export async function multipartRanges(ctx: ServeContext): Promise<Section> {
  const { config, fixtures } = ctx;
  const section: Section = {
    id: 'multipart',
    title: `Multipart: ${config.multiRange} of ${sizeLabel(fixtures.small.size)} (sirv left out: it answers only the first range)`,
    measurements: [],
    ratios: [],
  };
  const wireServers: ServerName[] = ['ranged', 'send', 'nginx'];
  const wire = new Map<ServerName, number>();
  for (const name of wireServers) {
    const res = await curl(url(peer(ctx, name), fixtures.small.name), { range: config.multiRange });
    const expected = name === 'send' ? 200 : 206; // send answers several ranges with the whole file
    if (res.status !== expected) {
      throw new Error(
        `Cannot benchmark ${name} multipart: expected ${expected}, got ${res.status}`,
      );
    }
    wire.set(name, res.header + res.body);
    section.measurements.push(
      measurement('multipart-bytes', name, 'bytes on the wire', [res.header + res.body], {
        status: res.status,
        body: res.body,
      }),
    );
  }
  const single = await wrkRangeScript(ctx.scratch, 'single', config.smallRange);
  const multi = await wrkRangeScript(ctx.scratch, 'multi', config.multiRange);
  const items = [
    'ranged single',
    'ranged multipart',
    'send multipart',
    'nginx multipart',
    ...(ctx.peers.has('baseline') ? ['baseline multipart'] : []),
  ];
  const target = (item: string) => {
    const [name, kind] = item.split(' ') as [ServerName, string];
    const server = peer(ctx, name);
    return {
      server,
      url: url(server, fixtures.small.name),
      script: kind === 'single' ? single : multi,
    };
  };
  for (const item of items) {
    const t = target(item);
    await wrk(t.url, {
      script: t.script,
      connections: config.connections,
      threads: config.threads,
      seconds: config.warmupSeconds,
    });
  }
  const cpu = new Map<string, number[]>(items.map((item) => [item, []]));
  const samples = await interleave(items, config.rounds, async (item, round) => {
    const t = target(item);
    const result = await loadRun(t.server, t.url, {
      script: t.script,
      connections: config.connections,
      threads: config.threads,
      seconds: config.wrkSeconds,
    });
    cpu.get(item)?.push(result.cpuMicrosPerRequest);
    ctx.log(
      `  multi  round ${round + 1} ${item.padEnd(18)} ${Math.round(result.requestsPerSec)} req/s, ${result.cpuMicrosPerRequest.toFixed(1)} µs CPU/req`,
    );
    return result.requestsPerSec;
  });
  for (const item of items) {
    section.measurements.push(
      measurement('multipart-rate', item, 'req/s', samples.get(item) ?? [], {
        serverCpuMicrosPerRequest: Number(median(cpu.get(item) ?? []).toFixed(1)),
      }),
    );
  }
  const rate = (item: string) => median(samples.get(item) ?? []);
  section.ratios.push(
    check(
      'multipart.bytes.ranged/send',
      'multipart bytes: ranged / send',
      (wire.get('ranged') ?? Number.NaN) / (wire.get('send') ?? Number.NaN),
      { issue: 5, op: '<', limit: 0.01 },
    ),
    ratio(
      'multipart.rate.multi/single',
      'multipart req/s: ranged multipart / single range',
      rate('ranged multipart'),
      rate('ranged single'),
      { issue: 5, op: '>=', limit: 0.5 },
    ),
    ratio(
      'multipart.rate.ranged/nginx',
      'multipart req/s: ranged / nginx',
      rate('ranged multipart'),
      rate('nginx multipart'),
    ),
    ratio(
      'multipart.rate.ranged/send',
      'multipart req/s: ranged / send',
      rate('ranged multipart'),
      rate('send multipart'),
    ),
  );
  if (ctx.peers.has('baseline')) {
    section.ratios.push(
      ratio(
        'multipart.rate.ranged/baseline',
        'multipart req/s: ranged / baseline',
        rate('ranged multipart'),
        rate('baseline multipart'),
      ),
    );
  }
  return section;
}
