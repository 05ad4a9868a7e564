/**
 * Differential test of the HTTP/1.1 response reader: the same bytes, random and malformed, go to
 * our pure parser (HeadParser + BodyDecoder, fed in random pieces), to Node's own parser (llhttp,
 * through node:http over a loopback socket) and to openHttp1() over a socket; all three must give
 * the same verdict: rejected, or accepted with the same status, reason, fields and body.
 *
 * Where we differ from llhttp on purpose, the case is in `DIFFERENCES` with the reason, and the
 * random inputs do not make those constructs (no SP or HTAB is inserted by a mutation).
 * Bytes after the end of a response: we read one response per connection and discard the rest
 * (RFC 9112 §6.3), while llhttp parses them as a next response; so llhttp is given the bytes up to
 * the end of our response, and must agree that the response ends there, with the same body.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BodyDecoder } from '../../src/client/transport/http1-body.js';
import { HeadParser } from '../../src/client/transport/http1-head.js';
import { inParallel, llhttp, shell, type Verdict, wireServer } from '../helpers/http1-verdicts.js';

/** A deterministic PRNG (mulberry32), so a failing case can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Our verdict, feeding the bytes in pieces cut at `random` places; `used` is the response's end. */
function ours(wire: Buffer, random: () => number): Verdict & { used: number } {
  const cuts = [0];
  while (random() < 0.6) cuts.push(Math.floor(random() * (wire.length + 1)));
  cuts.push(wire.length);
  cuts.sort((a, b) => a - b);
  const parser = new HeadParser();
  let decoder: BodyDecoder | undefined;
  let head: { status: number; statusMessage: string; headers: Record<string, string> } | undefined;
  const body: Buffer[] = [];
  let used = 0;
  for (let k = 1; k < cuts.length; k++) {
    let piece = wire.subarray(cuts[k - 1], cuts[k]);
    if (decoder === undefined) {
      const step = parser.feed(piece);
      if (step.kind === 'error') return { kind: 'reject', reason: step.reason, used: 0 };
      if (step.kind === 'more') continue;
      head = step.head;
      decoder = new BodyDecoder(step.framing);
      used = (cuts[k - 1] as number) + step.used;
      piece = piece.subarray(step.used);
    }
    if (decoder.done) break;
    const step = decoder.feed(piece, (s) => body.push(Buffer.from(s)));
    if (step.kind === 'error') return { kind: 'reject', reason: step.reason, used: 0 };
    used += step.used;
  }
  if (decoder === undefined || head === undefined) {
    return { kind: 'reject', reason: 'the connection closed before a response', used: 0 };
  }
  const reason = decoder.close();
  if (reason !== undefined) return { kind: 'reject', reason, used: 0 };
  return { kind: 'accept', ...head, body: Buffer.concat(body).toString('latin1'), used };
}

const H = 'HTTP/1.1 200 OK\r\n';
const TE = `${H}Transfer-Encoding: chunked\r\n\r\n`;
/** Hand-picked inputs: RFC 9112 edge cases and the malformed inputs parsers are known to differ on. */
const HAND_PICKED: string[] = [
  `${H}Content-Length: 2\r\n\r\nok`,
  `${H}Content-Length: 2\r\n\r\nok and more`, // bytes after the response
  `${H}\r\nuntil the close`,
  `${H}Content-Length: 2\r\n\r\n`, // cut short
  `${H}Content-Length: 2\r\n`, // head cut short
  'HTTP/1.1 200 OK\nContent-Length: 2\n\nok', // bare LF
  `${H}Content-Length: 2\n\r\nok`,
  `${H}Content-Length: 2\r\n\nok`,
  `${H}Content-Length: 2\r\r\n\r\nok`, // bare CR
  `${H}X: a\rb\r\n\r\n`,
  `${H}Content-Length : 2\r\n\r\nok`, // space before the colon
  `${H}X\t: 1\r\n\r\n`,
  `${H} X: 1\r\n\r\n`, // whitespace before the first field
  `${H}X: a\0b\r\n\r\n`, // NUL in a value
  `${H}X: a\x01b\r\n\r\n`,
  `${H}X: a\x7fb\r\n\r\n`,
  `${H}X: a\xffb\r\n\r\n`, // obs-text is fine
  `${H}\0: 1\r\n\r\n`,
  `${H}X{Y: 1\r\n\r\n`,
  `${H}: 1\r\n\r\n`,
  `${H}NoColon\r\n\r\n`,
  `${H}X:: 1\r\n\r\n`,
  `${H}X:\t a \t\r\nX:\r\nx: c\r\n\r\n`,
  `${H}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n`,
  `${H}Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\nok\r\n0\r\n\r\n`,
  `${H}Content-Length: 2\r\nContent-Length: 2\r\n\r\nok`, // duplicate, equal
  `${H}Content-Length: 2\r\nContent-Length: 3\r\n\r\nok`,
  `${H}Content-Length: 2, 2\r\n\r\nok`,
  `${H}Content-Length: \r\n\r\nok`,
  `${H}Content-Length: -1\r\n\r\nok`,
  `${H}Content-Length: 0x2\r\n\r\nok`,
  `${H}Content-Length: 0002\r\n\r\nok`,
  `${H}Content-Length: 18446744073709551616\r\n\r\nok`,
  `${H}Content-Length: 18446744073709551615\r\n\r\nok`,
  'HTTP/1.1 304 Not Modified\r\nContent-Length: 99999999999999999\r\n\r\n',
  'HTTP/1.1 204 No Content\r\nContent-Length: 2\r\n\r\nok',
  'HTTP/1.1 204 No Content\r\nContent-Length: x\r\n\r\n',
  'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
  'HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n\r\nHTTP/1.1 200 OK\r\n\r\nz',
  'HTTP/1.1 100 Continue\r\nContent-Length: x\r\n\r\nHTTP/1.1 200 OK\r\n\r\n',
  'HTTP/1.1 100 Continue\r\n\r\n',
  'HTTP/1.1 101 Switching Protocols\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
  '\r\n\nHTTP/1.1 200 OK\r\n\r\nleading empty lines',
  'HTTP/1.0 200 OK\r\n\r\nabc',
  'HTTP/1.2 200 OK\r\n\r\n',
  'http/1.1 200 OK\r\n\r\n',
  'HTTP/1.1 200\r\n\r\n',
  'HTTP/1.1 200 \r\n\r\n',
  'HTTP/1.1 200  two spaces\r\n\r\n',
  'HTTP/1.1 200 a\0b\x01c\x7f\xff\r\n\r\n',
  'HTTP/1.1 200\tOK\r\n\r\n',
  'HTTP/1.1 20 OK\r\n\r\n',
  'HTTP/1.1 2000 OK\r\n\r\n',
  'HTTP/1.1 099 OK\r\n\r\nx',
  'SSH-2.0-OpenSSH\r\n\r\n',
  '',
  `${TE}2\r\nok\r\n0\r\n\r\n`,
  `${TE}2;a=b;c="d\\"e";f\r\nok\r\n0;x=\r\nT: 1\r\n\r\n`,
  `${TE}2;\r\nok\r\n0\r\n\r\n`,
  `${TE}2;a=b@\r\nok\r\n0\r\n\r\n`,
  `${TE}2;a="b\x01"\r\nok\r\n0\r\n\r\n`,
  `${TE}2;a="b"c\r\nok\r\n0\r\n\r\n`,
  `${TE}2\nok\r\n0\r\n\r\n`,
  `${TE}2\r\nokxx0\r\n\r\n`,
  `${TE}2\r\nok\n0\r\n\r\n`,
  `${TE}0x2\r\nok\r\n0\r\n\r\n`,
  `${TE}-1\r\n`,
  `${TE}\r\n`,
  `${TE}0000000000000000002\r\nok\r\n0\r\n\r\n`, // leading zeros are not a large size
  `${TE}ffffffffffffffff\r\nok\r\n0\r\n\r\n`, // huge: never arrives
  `${TE}10000000000000000\r\nok\r\n0\r\n\r\n`, // beyond 2^64
  `${TE}2\r\nok\r\n0\r\n`, // no final CRLF
  `${TE}2\r\nok\r\n0\r\nT: 1\r\n`,
  `${TE}2\r\nok\r\n`, // no last chunk
  `${TE}2\r\nok\r\n0\r\nT : 1\r\n\r\n`,
  `${TE}2\r\nok\r\n0\r\nT: \x01\r\n\r\n`,
  `${TE}2\r\nok\r\n0\r\nContent-Length: 5\r\n\r\n`,
  `${TE}2\r\nok\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n`,
  `${TE}2\r\nok\r\n0\r\n\r\nJUNK`,
  `${H}Transfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n`,
  `${H}Transfer-Encoding: chunked, gzip\r\n\r\nabc`,
  `${H}Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n`,
  `${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\nabc`,
  `${H}Transfer-Encoding: Chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n`,
  `${H}Transfer-Encoding: chunked,\r\n\r\nabc`,
  `${H}Transfer-Encoding: xchunked\r\n\r\nabc`,
  `${H}Transfer-Encoding: \r\n\r\nabc`,
  'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
  `${H}X: ${'a'.repeat(20_000)}\r\n\r\nbig head`,
];

/**
 * Where we differ from llhttp on purpose: we accept where the RFC requires a recipient to accept
 * and llhttp rejects (or, for a trailing HTAB, takes it for part of the value).
 */
const DIFFERENCES: { name: string; wire: string; why: string }[] = [
  {
    name: 'an obs-fold',
    wire: `${H}X: a\r\n b\r\nContent-Length: 2\r\n\r\nok`,
    why: 'RFC 9112 §5.2: a user agent MUST replace each obs-fold in a response with SP',
  },
  {
    name: 'BWS in a chunk extension',
    wire: `${TE}2 ;a = "b" ; c\r\nok\r\n0\r\n\r\n`,
    why: 'RFC 9112 §7.1.1 allows BWS around ";" and "="; RFC 9110 §5.6.3: recipients MUST parse it',
  },
  {
    name: 'a Content-Length with a trailing HTAB',
    wire: `${H}Content-Length: 2\t\r\n\r\nok`,
    why: 'RFC 9110 §5.5: OWS (SP or HTAB) around a field value is not part of it',
  },
  {
    name: 'a chunked Transfer-Encoding with a trailing HTAB',
    wire: `${H}Transfer-Encoding: chunked\t\r\n\r\n2\r\nok\r\n0\r\n\r\n`,
    why: 'as above; llhttp then reads the chunked body as if delimited by the close',
  },
];

/** Versions llhttp accepts and we do not: the status line of HTTP/0.9 or 2 is not HTTP/1.1's. */
const VERSIONS: string[] = ['HTTP/2.0 200 OK\r\n\r\n', 'HTTP/0.9 200 OK\r\n\r\n'];

/** Random responses: valid ones built from parts, then some with a few bytes mutated. */
function randomWires(count: number, random: () => number): string[] {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const statuses = ['200 OK', '206 Partial Content', '404 Not Found', '204 No Content'];
  const fields = ['ETag: "a"', 'X-A: 1', 'X-A: 2', 'Content-Type: text/plain', 'Empty:', 'X: \xe9'];
  const exts = ['', ';a', ';a=b', ';a="b c"', ';a=b;c', ';', ';a=b@', ';a="\\""'];
  const noise = ['\r', '\n', '\0', ':', ';', '"', '0', 'f', 'z', '\x7f', '\xff', '\x01', ',', '-'];
  const out: string[] = [];
  for (let n = 0; n < count; n++) {
    const body = Array.from({ length: Math.floor(random() * 40) }, () =>
      String.fromCharCode(Math.floor(random() * 256)),
    ).join('');
    let head = '';
    if (random() < 0.1) head += 'HTTP/1.1 100 Continue\r\n\r\n';
    head += `${pick(['HTTP/1.1', 'HTTP/1.0'])} ${pick(statuses)}\r\n`;
    for (let k = Math.floor(random() * 4); k > 0; k--) head += `${pick(fields)}\r\n`;
    let rest: string;
    const framing = pick(['length', 'chunked', 'close', 'short', 'long'] as const);
    if (framing === 'chunked') {
      head += 'Transfer-Encoding: chunked\r\n';
      rest = '';
      for (let at = 0; at < body.length; ) {
        const size = 1 + Math.floor(random() * (body.length - at));
        const hex = size.toString(16);
        rest += `${random() < 0.3 ? '0' : ''}${random() < 0.5 ? hex : hex.toUpperCase()}`;
        rest += `${pick(exts)}\r\n${body.slice(at, at + size)}\r\n`;
        at += size;
      }
      rest += `0${pick(exts)}\r\n${random() < 0.3 ? `${pick(fields)}\r\n` : ''}\r\n`;
    } else if (framing === 'close') {
      rest = body;
    } else {
      const delta = framing === 'short' ? -1 : framing === 'long' ? 1 : 0;
      head += `Content-Length: ${Math.max(0, body.length + delta)}\r\n`;
      rest = body;
    }
    let wire = `${head}\r\n${rest}`;
    if (random() < 0.5) {
      for (let k = 1 + Math.floor(random() * 3); k > 0; k--) {
        const at = Math.floor(random() * wire.length);
        const op = random();
        if (op < 0.4) wire = `${wire.slice(0, at)}${pick(noise)}${wire.slice(at + 1)}`;
        else if (op < 0.7) wire = `${wire.slice(0, at)}${pick(noise)}${wire.slice(at)}`;
        else if (op < 0.9) wire = `${wire.slice(0, at)}${wire.slice(at + 1)}`;
        else wire = wire.slice(0, at);
      }
    }
    out.push(wire);
  }
  return out;
}

test('HeadParser and BodyDecoder give llhttp’s verdict on random and malformed responses', async (t) => {
  const random = prng(0x5eed);
  const cases = [...HAND_PICKED, ...randomWires(400, random)];
  const wires = cases.map((c) => Buffer.from(c, 'latin1'));
  const mine = wires.map((w) => ours(w, random));
  // llhttp gets the bytes up to the end of our response (see the top of the file).
  const forLlhttp = wires.map((w, i) => {
    const v = mine[i] as Verdict & { used: number };
    return v.kind === 'accept' ? w.subarray(0, v.used) : w;
  });
  const port = await wireServer(t, [...forLlhttp, ...wires]);
  const theirs = await inParallel(wires.length, 8, (i) => llhttp(port, i));
  const socket = await inParallel(wires.length, 8, (i) => shell(port, wires.length + i));
  const failures: string[] = [];
  let accepted = 0;
  for (let i = 0; i < wires.length; i++) {
    const { used: _, ...a } = mine[i] as Verdict & { used: number };
    const b = theirs[i] as Verdict;
    const c = socket[i] as Verdict;
    if (a.kind === 'accept') accepted++;
    const show = (v: Verdict): string =>
      v.kind === 'reject' ? `reject (${v.reason})` : JSON.stringify(v);
    const same = (x: Verdict, y: Verdict): boolean =>
      x.kind === 'reject' ? y.kind === 'reject' : JSON.stringify(x) === JSON.stringify(y);
    if (!same(a, b)) {
      failures.push(`${JSON.stringify(cases[i])}\n  ours:   ${show(a)}\n  llhttp: ${show(b)}`);
    }
    if (
      !same(a, c) ||
      (a.kind === 'reject' && c.kind === 'reject' && !c.reason.includes(a.reason))
    ) {
      failures.push(
        `${JSON.stringify(cases[i])}\n  pure:      ${show(a)}\n  openHttp1: ${show(c)}`,
      );
    }
  }
  t.diagnostic(
    `${accepted} of ${wires.length} responses accepted, ${failures.length} disagreements`,
  );
  assert.deepEqual(failures, [], failures.join('\n'));
  // Both verdicts must be well represented for the comparison to mean something.
  assert.ok(
    accepted > 100 && accepted < wires.length - 100,
    `${accepted} of ${wires.length} accepted`,
  );
});

test('HeadParser and BodyDecoder differ from llhttp only where the RFC says so', async (t) => {
  const all = [...DIFFERENCES.map((d) => d.wire), ...VERSIONS];
  const wires = all.map((c) => Buffer.from(c, 'latin1'));
  const port = await wireServer(t, wires);
  for (let i = 0; i < wires.length; i++) {
    const wire = wires[i] as Buffer;
    const mine = ours(wire, () => 0.9);
    const theirs = await llhttp(port, i);
    const d = DIFFERENCES[i];
    const name =
      d === undefined ? `the status line ${JSON.stringify(all[i])}` : `${d.name} (${d.why})`;
    if (i < DIFFERENCES.length) {
      assert.equal(mine.kind, 'accept', name);
      assert.equal(mine.body, 'ok', name);
      const same = theirs.kind === 'accept' && theirs.body === 'ok';
      assert.ok(!same, `${name}: llhttp now agrees; drop the difference`);
    } else {
      assert.equal(mine.kind, 'reject', name);
      assert.equal(theirs.kind, 'accept', `${name}: llhttp now rejects it; drop the difference`);
    }
  }
});
