/**
 * draft-ietf-httpbis-resumable-upload (interop 9 and 6) on the upload store (issue 12): the shell
 * around core's planIetfRequest(). Like tus.ts, it checks the token first (a request without it
 * takes no lock and cuts off no running PATCH), holds the upload's lock, loads its state, asks the
 * planner, does what the plan says on the store (the same one tus uses: upload resources are
 * `/.uploads/ID`, records say `protocol: 'ietf'`), and answers with finishIetfBody(). Notes:
 * docs/ietf-draft-notes.md.
 */
import { validateHeaderName, validateHeaderValue } from 'node:http';
import type { IetfRequest, IetfRequestFields } from '../../core/upload/ietf-plan.js';
import {
  finishIetfBody,
  type IetfBodyOutcome,
  type IetfPlan,
  type IetfPlanOptions,
  type IetfProblem,
  type IetfUploadState,
  planIetfRequest,
} from '../../core/upload/ietf-plan.js';
import { cut, endWith, isHttp2, type Request, type Response } from '../exchange.js';
import { appendBody, completeIfDone, type Held, hold, statusOf } from './append.js';
import { checkToken, hasBody, mountPrefix, TUS_ENDPOINT, type UploadContext } from './context.js';
import { type Loaded, newUploadId } from './file-store.js';
import { ietfHeaders, readIetfFields } from './ietf-fields.js';
import { handlePut } from './put.js';

/** What the planner's request and options start from. */
interface Asked {
  method: string;
  fields: IetfRequestFields;
  base: IetfPlanOptions;
}

function ask(context: UploadContext, req: Request): Asked {
  const method = (req.method ?? 'GET').toUpperCase();
  const override = req.headers['x-http-method-override'];
  return {
    // tus-js-client's overridePatchMethod sends a PATCH as POST with X-HTTP-Method-Override.
    method:
      method === 'POST' && typeof override === 'string' ? override.trim().toUpperCase() : method,
    fields: readIetfFields(req.headers),
    base: { token: checkToken(req, context.token), maxSize: context.maxSize },
  };
}

/**
 * A PUT, POST or OPTIONS whose path names the file to write (`target`, checked segments): an
 * upload creation, a plain PUT (put.ts) or the draft's OPTIONS.
 */
export async function handleIetfResource(
  context: UploadContext,
  req: Request,
  res: Response,
  target: string[],
): Promise<void> {
  const { method, fields, base } = ask(context, req);
  const id = newUploadId();
  // Issue 12: an upload expires `--upload-expires` after its last activity; a new one has it all.
  const options: IetfPlanOptions = {
    ...base,
    maxAge: context.expires / 1000,
    location: `${mountPrefix(req)}${TUS_ENDPOINT}${id}`,
  };
  const request: IetfRequest = { method, target: 'resource', fields };
  // OPTIONS and a missing token are answered before the file system is looked at.
  const first = planIetfRequest(request, undefined, options);
  if (method === 'OPTIONS') {
    // The path is a file's: it is read with GET and HEAD too.
    const allow = `GET, HEAD, ${first.headers.Allow ?? 'OPTIONS, PUT, POST'}`;
    return send(req, res, { ...first, headers: { ...first.headers, Allow: allow } });
  }
  if (base.token !== 'ok') return send(req, res, first);
  // Issue 12: a path that exists (or cannot be a file) is 409 before any byte is read; one that
  // another unfinished upload reserved shows up at store.create() below.
  const checked = await context.store.checkTarget(target);
  const plan = planIetfRequest(
    { ...request, targetTaken: checked.kind !== 'free' },
    undefined,
    options,
  );
  const action = plan.action;
  if (action.kind === 'plain-put') return handlePut(context, req, res, target);
  if (action.kind !== 'create') return send(req, res, plan);

  const held = await hold(context, id);
  if (held === undefined) return send(req, res, { ...plan, status: 409, reason: 'taken over' });
  try {
    const created = await context.store.create({
      id,
      protocol: 'ietf',
      target,
      length: action.length ?? null,
      metadata: null,
      concat: null,
    });
    if (created.kind === 'taken' || created.kind === 'blocked') {
      const taken = planIetfRequest({ ...request, targetTaken: true }, undefined, options);
      return send(req, res, { ...taken, reason: created.reason });
    }
    if (created.kind === 'full') {
      const extra: Record<string, string> = created.status === 503 ? { 'Retry-After': '60' } : {};
      return send(req, res, {
        status: created.status,
        headers: extra,
        fields: {},
        reason: created.reason,
      });
    }
    if (plan.interim !== undefined) sendInterim(req, res, ietfHeaders(plan.interim));
    await storeBody(
      context,
      req,
      res,
      plan,
      { record: created.record, offset: 0, stored: 0 },
      held,
    );
  } finally {
    held.release();
  }
}

/** HEAD, GET, PATCH, DELETE or OPTIONS on the upload resource `/.uploads/ID`. */
export async function handleIetfUpload(
  context: UploadContext,
  req: Request,
  res: Response,
  id: string,
): Promise<void> {
  const { method, fields, base } = ask(context, req);
  const request: IetfRequest = { method, target: 'upload', fields };
  // OPTIONS, a missing token and a bad interop version need no upload: answered before any lock
  // is taken, so they cannot cut off the upload's running PATCH.
  const first = planIetfRequest(request, undefined, base);
  if (method === 'OPTIONS' || base.token !== 'ok' || first.status === 400) {
    return send(req, res, first);
  }
  if (!context.store.isId(id)) return send(req, res, first);
  const held = await hold(context, id);
  if (held === undefined) {
    return send(req, res, {
      status: 409,
      headers: {},
      fields: {},
      reason: 'a newer request for this upload took over; ask for its offset (HEAD)',
    });
  }
  try {
    const loaded = await context.store.load(id);
    // The draft reaches the draft's uploads only: a tus upload or a plain PUT is another protocol's.
    const mine = loaded?.record.protocol === 'ietf' ? loaded : undefined;
    const state = mine && ietfState(context, mine);
    const maxAge =
      state?.status === 'active' && mine !== undefined ? remaining(context, mine) : undefined;
    const plan = planIetfRequest(request, state, { ...base, maxAge });
    const action = plan.action;
    if (action.kind === 'none' || mine === undefined) return send(req, res, plan);
    if (action.kind === 'terminate') {
      // Draft-12 §Upload Cancellation: "the server SHOULD deactivate the upload resource"; its data
      // and its target's reservation go, so the path is free again (issue 12).
      await context.store.end(mine.record, 'terminated');
      return send(req, res, plan);
    }
    if (action.kind !== 'append') return send(req, res, plan);
    let record = mine.record;
    if (action.length !== undefined)
      record = await context.store.declareLength(record, action.length);
    await storeBody(context, req, res, plan, { ...mine, record }, held);
  } finally {
    held.release();
  }
}

/** The state the planner sees. */
function ietfState(context: UploadContext, loaded: Loaded): IetfUploadState {
  return {
    status: statusOf(context, loaded),
    offset: loaded.offset,
    length: loaded.record.length ?? undefined,
  };
}

/** Seconds an active upload has left (Upload-Limit `max-age`). */
function remaining(context: UploadContext, loaded: Loaded): number {
  return Math.max(0, (loaded.record.activity + context.expires - context.now()) / 1000);
}

/** Stores the body of a creation or an append, completes the upload when it is whole, answers. */
async function storeBody(
  context: UploadContext,
  req: Request,
  res: Response,
  plan: IetfPlan,
  loaded: Loaded,
  held: Held,
): Promise<void> {
  const action = plan.action;
  if (action.kind !== 'create' && action.kind !== 'append') return send(req, res, plan);
  const { record: stored, appended } = await appendBody(context, req, loaded, action.append, held);
  let record = stored;
  if (appended.kind === 'interrupted' || appended.kind === 'checksum-mismatch') {
    // The client went, a newer request took over, or the body was too slow: what arrived is kept,
    // and the client learns the offset by an offset retrieval (HEAD).
    const fields = { ...plan.fields, offset: appended.offset, complete: false };
    return send(req, res, {
      status: 408,
      headers: { ...plan.headers, Connection: 'close' },
      fields,
      reason: 'upload body stopped',
    });
  }
  if (appended.kind === 'conflict') {
    // Another server of the same bucket appended meanwhile: this body did not count.
    const fields = { ...plan.fields, offset: appended.offset, complete: false };
    return send(req, res, {
      status: 409,
      headers: plan.headers,
      fields,
      reason: 'another request appended to this upload meanwhile; ask for its offset (HEAD)',
    });
  }
  if (appended.kind === 'no-space') {
    const fields = { ...plan.fields, offset: appended.offset, complete: false };
    return send(req, res, {
      status: 507,
      headers: plan.headers,
      fields,
      reason: 'the disk is full',
    });
  }
  let outcome: IetfBodyOutcome;
  if (appended.kind === 'too-large') {
    outcome = { kind: 'too-large', offset: appended.offset };
  } else {
    // Draft-12 §Length: with `Upload-Complete: ?1` the representation's length is "the sum of the
    // current offset and the request content's length": a chunked body learns it only now.
    if (action.complete && record.length === null) {
      record = await context.store.declareLength(record, appended.offset);
    }
    // An upload whose offset reached its known length is complete, whatever Upload-Complete said:
    // draft-12 §Length, "The representation's length, if known, MUST stay consistent", and
    // §Upload Append, "MUST prevent the offset from exceeding the representation's length", leave
    // no byte to come. tus-js-client 4.3.1 (ietf-draft-05) relies on it: a 0-byte file is created
    // with `Upload-Length: 0` and `Upload-Complete: ?0` and counts as done on the creation response
    // (`if (this._size === 0) this._emitSuccess(res)`), and a PATCH whose `Upload-Offset` reaches
    // the size is done even when its source sent `?0`. The store completes by this rule for tus too
    // (completeIfDone()); an empty `?1` append afterwards replays the completion at interop 9.
    const completion = await completeIfDone(context, record, appended.offset);
    if (completion.kind === 'exists' || completion.kind === 'blocked') {
      outcome = { kind: 'target-taken', offset: appended.offset };
    } else {
      outcome = {
        kind: 'stored',
        offset: appended.offset,
        complete: completion.kind === 'complete',
      };
    }
  }
  const done = finishIetfBody(plan, outcome);
  send(req, res, done, outcome.kind === 'too-large');
}

/**
 * Sends the 104 (Upload Resumption Supported) interim response. Node 20 writes only 100, 102 and
 * 103 itself; the head below is written the way its writeEarlyHints() writes a 103 (`_writeRaw`,
 * which queues it when the socket is not yet this response's), after the same header checks. RFC
 * 9110 §15.2: "A server MUST NOT send a 1xx response to an HTTP/1.0 client." On HTTP/2 the stream
 * sends informational headers itself.
 */
function sendInterim(req: Request, res: Response, headers: Record<string, string>): void {
  if (res.headersSent) return;
  if (isHttp2(res)) {
    const h2: Record<string, string | number> = { ':status': 104 };
    for (const [name, value] of Object.entries(headers)) h2[name.toLowerCase()] = value;
    res.stream.additionalHeaders(h2);
    return;
  }
  if (req.httpVersionMajor < 1 || (req.httpVersionMajor === 1 && req.httpVersionMinor < 1)) return;
  let head = 'HTTP/1.1 104 Upload Resumption Supported\r\n';
  for (const [name, value] of Object.entries(headers)) {
    validateHeaderName(name);
    validateHeaderValue(name, value);
    head += `${name}: ${value}\r\n`;
  }
  const raw = res as unknown as { _writeRaw(data: string, encoding: string): boolean };
  raw._writeRaw(`${head}\r\n`, 'latin1');
}

/** What send() answers: a plan, or finishIetfBody()'s final response. */
interface Answer {
  status: number;
  headers: Record<string, string>;
  fields: IetfPlan['fields'];
  problem?: IetfProblem | undefined;
  reason?: string | undefined;
}

/**
 * Sends the response: plain headers and serialised fields, an RFC 9457 problem as
 * application/problem+json, else a short text for an error. A response sent before a body was read
 * closes an HTTP/1.1 connection (the unread body is not read to find the next request).
 */
function send(req: Request, res: Response, answer: Answer, bodyUnread = true): void {
  if (res.headersSent) {
    cut(res);
    return;
  }
  const out = ietfHeaders(answer);
  if (bodyUnread && !isHttp2(res) && hasBody(req)) out.Connection = 'close';
  let body: string | undefined;
  if (answer.problem !== undefined) {
    // RFC 9457 §3: the problem details object; §6.1: "application/problem+json".
    body = JSON.stringify({ ...answer.problem, status: answer.status, detail: answer.reason });
    out['Content-Type'] = 'application/problem+json';
  } else if (answer.status >= 400) {
    body = `${answer.reason ?? 'refused'}\n`;
    out['Content-Type'] = 'text/plain; charset=utf-8';
  }
  if (answer.status === 204 || answer.status === 304 || req.method === 'HEAD') body = undefined;
  if (answer.status !== 204 && answer.status !== 304) {
    out['Content-Length'] = String(body === undefined ? 0 : Buffer.byteLength(body));
  }
  res.writeHead(answer.status, out);
  endWith(res, body);
}
