import { closeSync, ftruncateSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BIG_PATH,
  BIG_SIZE,
  CUT_SEND_TIMEOUT_S,
  checkServes,
  cliMain,
  count,
  ENTRIES,
  FOLDER_PATH,
  fetchOnce,
  type HostileContext,
  JSON_ACCEPT,
  LATENCY_LIMIT_MS,
  LISTING_RSS_LIMIT_MIB,
  LISTINGS,
  type ListingRound,
  latencyRows,
  listingRound,
  MiB,
  mib,
  noteTrouble,
  type Run,
  SMALL_BODY,
  SMALL_PATH,
  STALLED,
  STALLED_RSS_LIMIT_MIB,
  seconds,
  startNginxTarget,
  startRanged,
  summarise,
  type Target,
} from './hostile-kit.js';
import { cutRun, stalledRun } from './hostile-runs.js';
import { currentRss, peakRss } from './procs.js';
import { check, measurement, ratio, type Section } from './stats.js';

export type { HostileContext } from './hostile-kit.js';

export async function hostileClients(ctx: HostileContext): Promise<Section> {
  const dir = join(ctx.scratch, 'hostile');
  const run: Run = {
    ctx,
    root: join(dir, 'root'),
    main: cliMain(ctx.config),
    section: {
      id: 'hostile',
      title: `Hostile clients: ${LISTINGS} listings of a ${count(ENTRIES)}-entry folder, ${STALLED} clients that never read a 512 MiB file (ranged serve as a child, nginx as the peer)`,
      measurements: [],
      ratios: [],
    },
    targets: [],
    stalled: [],
    odd: [],
  };
  try {
    writeFiles(run);
    await listingPart(run, join(dir, 'nginx-autoindex'));
    await stalledPart(run, join(dir, 'nginx'));
    await cutPart(run);
    if (run.odd.length > 0) {
      for (const line of run.odd) ctx.log(`  hostile  ${line}`);
      run.section.measurements.push(
        measurement(
          'hostile-notes',
          'ranged: stderr lines or exits seen',
          'lines',
          [run.odd.length],
          { text: run.odd.join(' | ').slice(0, 2_000) },
        ),
      );
    }
    return run.section;
  } finally {
    for (const set of run.stalled) set.destroy();
    await Promise.allSettled(run.targets.map((t) => t.stop()));
    await rm(dir, { recursive: true, force: true });
  }
}

/** The folder of 100,000 empty files (timed), the small file and a sparse 512 MiB file. */
function writeFiles(run: Run): void {
  const started = performance.now();
  const folder = join(run.root, 'many');
  mkdirSync(folder, { recursive: true });
  for (let i = 0; i < ENTRIES; i++) {
    closeSync(openSync(join(folder, `f${String(i).padStart(6, '0')}.txt`), 'w'));
  }
  const seconds = (performance.now() - started) / 1000;
  writeFileSync(join(run.root, SMALL_PATH.slice(1)), SMALL_BODY);
  const fd = openSync(join(run.root, BIG_PATH.slice(1)), 'w');
  try {
    ftruncateSync(fd, BIG_SIZE); // sparse: reads zeros, which is all a client that never reads gets
  } finally {
    closeSync(fd);
  }
  run.ctx.log(`  hostile  ${count(ENTRIES)} empty files created in ${seconds.toFixed(1)} s`);
  run.section.measurements.push(
    measurement('hostile', `fixture: create ${count(ENTRIES)} empty files`, 's', [seconds]),
  );
}

async function listingPart(run: Run, nginxDir: string): Promise<void> {
  const { config, log } = run.ctx;
  const rounds = config.quick ? 2 : 3;
  const ranged = await startRanged(run, []);
  const nginx = await startNginxTarget(run, nginxDir, true);
  await checkServes(ranged);
  await checkServes(nginx);
  // One listing first: checks the count, and warms the server up like the rounds that follow.
  const first = await fetchOnce(ranged.origin, FOLDER_PATH, {
    accept: JSON_ACCEPT,
    timeoutMs: 30_000,
    keepBody: true,
  });
  const total = first.status === 200 ? (JSON.parse(first.body) as { total?: number }).total : -1;
  if (total !== ENTRIES) {
    throw new Error(
      `Cannot measure listings: ranged lists ${total} entries of ${ENTRIES} (status ${first.status})`,
    );
  }
  const rssBefore = await currentRss(ranged.pid);
  const results = new Map<Target, ListingRound[]>([
    [ranged, []],
    [nginx, []],
  ]);
  for (let round = 0; round < rounds; round++) {
    // A new entry (a dot name, so not listed) changes the folder's mtime: this round reads the
    // folder again instead of reusing the previous round's read.
    writeFileSync(join(run.root, 'many', `.round-${round}`), '');
    // nginx builds each 10 MiB autoindex page in its one process: one round is enough to see it.
    const targets = round === 0 ? [ranged, nginx] : [ranged];
    for (const target of targets) {
      const result = await listingRound(target, round);
      results.get(target)?.push(result);
      const p = summarise(result.probes);
      log(
        `  hostile  listings round ${round + 1} ${target.name.padEnd(6)} ${LISTINGS} in ${(result.ms / 1000).toFixed(2)} s (${(result.bytes / MiB).toFixed(1)} MiB), small file: median ${p.median.toFixed(1)} ms, max ${p.max.toFixed(1)} ms over ${p.count}${p.failed > 0 ? `, ${p.failed} failed (${p.errors.join(', ')})` : ''}${result.failures.length > 0 ? `; listings failed: ${result.failures.join(' ')}` : ''}`,
      );
    }
  }
  const rangedPeak = await peakRss(ranged.pid);
  const nginxPeak = await peakRss(nginx.pid);
  const { section } = run;
  const labels = { ranged: 'ranged (10 HTML + 10 JSON)', nginx: 'nginx autoindex (20 HTML)' };
  const worst = new Map<Target, number>();
  const typical = new Map<Target, number>();
  for (const target of [ranged, nginx]) {
    const rows = results.get(target) ?? [];
    const failures = rows.flatMap((r) => r.failures);
    section.measurements.push(
      measurement(
        'hostile-listing-wall',
        `${labels[target.name]}: ${LISTINGS} listings, wall`,
        's',
        rows.map((r) => r.ms / 1000),
        failures.length > 0 ? { failedListings: failures.join(' ') } : undefined,
      ),
    );
    const all = summarise(rows.flatMap((r) => r.probes));
    typical.set(target, all.median);
    worst.set(target, all.failed > 0 ? Number.NaN : all.max);
    section.measurements.push(
      ...latencyRows(
        'hostile-listing-small',
        `${target.name}: small file during listings`,
        rows.map((r) => r.probes),
      ),
    );
  }
  section.measurements.push(
    measurement(
      'hostile-listing-rss',
      'ranged: peak RSS (VmHWM), listings',
      'MiB',
      [(rangedPeak ?? Number.NaN) / MiB],
      { rssBeforeMiB: mib(rssBefore) },
    ),
    measurement('hostile-listing-rss', 'nginx: peak RSS (VmHWM), autoindex', 'MiB', [
      (nginxPeak ?? Number.NaN) / MiB,
    ]),
  );
  section.ratios.push(
    check(
      'hostile.listing.small.max',
      `hostile: ranged small-file answer during ${LISTINGS} listings (max)`,
      worst.get(ranged) ?? Number.NaN,
      { issue: 9, op: '<', limit: LATENCY_LIMIT_MS },
      'ms',
    ),
    check(
      'hostile.listing.rss',
      `hostile: ranged peak RSS with ${LISTINGS} listings of ${count(ENTRIES)}`,
      (rangedPeak ?? Number.NaN) / MiB,
      { issue: 9, op: '<', limit: LISTING_RSS_LIMIT_MIB },
      'MiB',
    ),
    ratio(
      'hostile.listing.small.median.ranged/nginx',
      'hostile: small-file median during listings, ranged / nginx autoindex (lower is better)',
      typical.get(ranged) ?? Number.NaN,
      typical.get(nginx) ?? Number.NaN,
    ),
  );
  noteTrouble(run, 'listing server', ranged);
  await ranged.stop();
  await nginx.stop();
}

async function stalledPart(run: Run, nginxDir: string): Promise<void> {
  const { config, log } = run.ctx;
  const plateauMaxMs = config.quick ? 6_000 : 10_000;
  // The default send timeout, said out loud: the measurement must end before it cuts anyone.
  const ranged = await startRanged(run, ['--send-timeout', '30']);
  const nginx = await startNginxTarget(run, nginxDir, false);
  const added = new Map<Target, number>();
  const worst = new Map<Target, number>();
  const typical = new Map<Target, number>();
  const { section } = run;
  for (const target of [ranged, nginx]) {
    await checkServes(target);
    const r = await stalledRun(run, target, plateauMaxMs);
    const all = summarise(r.probes);
    const held = summarise(r.probes.filter((p) => p.at >= r.acceptedAt));
    added.set(target, (r.rssAfter - r.rssBefore) / MiB);
    // The floor is on the steady state: while the 300 are being accepted, the server copies
    // ~4 MiB into each one's kernel send buffer (no sendfile in Node), ~1.2 GB in all; that ramp
    // is reported beside it (hostile-stalled-small), not held to the floor.
    worst.set(target, all.failed > 0 || held.failed > 0 ? Number.NaN : held.max);
    typical.set(target, all.median);
    const notes: Record<string, number | string> = {
      rssBeforeMiB: mib(r.rssBefore),
      rssAfterMiB: mib(r.rssAfter),
      rssPeakMiB: mib(r.rssPeak),
      waitedS: seconds(r.waitedMs),
      stable: r.stable ? 'yes' : 'no (bound reached)',
      accepted: r.accepted,
      answered200: r.answered,
      kernelSendQMiB: mib(r.serverSendQ),
    };
    if (r.connectErrors.length > 0) notes.connectErrors = r.connectErrors.join(' ');
    if (r.otherStatus.length > 0) notes.otherStatus = r.otherStatus.join(' | ');
    section.measurements.push(
      measurement(
        'hostile-stalled-rss',
        `${target.name}: RSS added by ${STALLED} stalled clients`,
        'MiB',
        [(r.rssAfter - r.rssBefore) / MiB],
        notes,
      ),
      measurement(
        'hostile-stalled-accept',
        `${target.name}: all ${STALLED} accepted after`,
        's',
        [r.acceptedAt / 1000],
        { accepted: r.accepted },
      ),
      ...latencyRows('hostile-stalled-small', `${target.name}: small file, ${STALLED} stalled`, [
        r.probes,
      ]),
      ...latencyRows('hostile-stalled-held-small', `${target.name}: small file once all accepted`, [
        r.probes.filter((p) => p.at >= r.acceptedAt),
      ]),
    );
    log(
      `  hostile  stalled ${target.name.padEnd(6)} ${r.accepted}/${STALLED} accepted after ${seconds(r.acceptedAt)} s; RSS ${mib(r.rssBefore)} → ${mib(r.rssAfter)} MiB (peak ${mib(r.rssPeak)}, ${r.stable ? 'stable' : 'still moving'} after ${seconds(r.waitedMs)} s); kernel send queues ${mib(r.serverSendQ)} MiB; small file: median ${all.median.toFixed(1)} ms, max ${all.max.toFixed(1)} ms over ${all.count}${all.failed > 0 ? `, ${all.failed} failed (${all.errors.join(', ')})` : ''}; once all accepted: median ${held.median.toFixed(1)} ms, max ${held.max.toFixed(1)} ms over ${held.count}; ${r.answered} answered 200${r.connectErrors.length > 0 ? `; connect errors: ${r.connectErrors.join(' ')}` : ''}${r.otherStatus.length > 0 ? `; other: ${r.otherStatus.join(' | ')}` : ''}`,
    );
  }
  section.ratios.push(
    check(
      'hostile.stalled.rss',
      `hostile: ranged RSS added by ${STALLED} clients that never read`,
      added.get(ranged) ?? Number.NaN,
      { issue: 9, op: '<', limit: STALLED_RSS_LIMIT_MIB },
      'MiB',
    ),
    check(
      'hostile.stalled.small.max',
      `hostile: ranged small-file answer once ${STALLED} stalled clients are in (max)`,
      worst.get(ranged) ?? Number.NaN,
      { issue: 9, op: '<', limit: LATENCY_LIMIT_MS },
      'ms',
    ),
    check(
      'hostile.stalled.rss.nginx',
      `hostile: nginx RSS added by ${STALLED} clients that never read`,
      added.get(nginx) ?? Number.NaN,
      undefined,
      'MiB',
    ),
    check(
      'hostile.stalled.small.max.nginx',
      `hostile: nginx small-file answer once ${STALLED} stalled clients are in (max)`,
      worst.get(nginx) ?? Number.NaN,
      undefined,
      'ms',
    ),
    ratio(
      'hostile.stalled.small.median.ranged/nginx',
      'hostile: small-file median with stalled clients, ranged / nginx (lower is better)',
      typical.get(ranged) ?? Number.NaN,
      typical.get(nginx) ?? Number.NaN,
    ),
  );
  noteTrouble(run, 'stalled server', ranged);
  await ranged.stop();
  await nginx.stop();
}

async function cutPart(run: Run): Promise<void> {
  const ranged = await startRanged(run, ['--send-timeout', String(CUT_SEND_TIMEOUT_S)]);
  await checkServes(ranged);
  const cut = await cutRun(run, ranged);
  run.section.measurements.push(
    measurement(
      'hostile-cut',
      `ranged --send-timeout ${CUT_SEND_TIMEOUT_S}: all ${STALLED} cut after`,
      's',
      [cut.lastCutMs / 1000],
      { connected: cut.connected, left: cut.left, firstCutS: seconds(cut.firstCutMs) },
    ),
  );
  run.section.ratios.push(
    check(
      'hostile.cut',
      `hostile: ${STALLED} stalled clients all cut (--send-timeout ${CUT_SEND_TIMEOUT_S}) after`,
      cut.left === 0 ? cut.lastCutMs / 1000 : Number.NaN,
      undefined,
      's',
    ),
  );
  run.ctx.log(
    `  hostile  cut: ${cut.connected - cut.left}/${cut.connected} closed by the server; first after ${seconds(cut.firstCutMs)} s, all after ${seconds(cut.lastCutMs)} s (send timeout ${CUT_SEND_TIMEOUT_S} s, counted from the moment all had connected)`,
  );
  noteTrouble(run, 'cut server', ranged);
  await ranged.stop();
}
