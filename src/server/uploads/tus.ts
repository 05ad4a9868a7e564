/**
 * tus 1.0.0 at `/.uploads/` (issue 12): the shell around core's planTusRequest(). It checks the
 * token, holds the upload's lock, loads its state, asks the planner, does what the plan says on the
 * store, and answers with finishTusBody().
 */
import type { UploadRecord } from '../../core/upload/record.js';
import {
  finishTusBody,
  planTusRequest,
  type TusBodyOutcome,
  type TusPlan,
  type TusPlanOptions,
  type TusUploadState,
} from '../../core/upload/tus-plan.js';
import type { Request, Response } from '../exchange.js';
import {
  appendBody,
  type Completion,
  completeIfDone,
  type Held,
  hold,
  statusOf,
} from './append.js';
import {
  answer,
  checkToken,
  mountPrefix,
  reservedTarget,
  TUS_ENDPOINT,
  type UploadContext,
} from './context.js';
import { type Loaded, newUploadId } from './file-store.js';

/** Handles a request to the tus endpoint (`id` undefined) or to the upload `id`. */
export async function handleTus(
  context: UploadContext,
  req: Request,
  res: Response,
  id: string | undefined,
): Promise<void> {
  const method = req.method ?? 'GET';
  const base: TusPlanOptions = {
    token: checkToken(req, context.token),
    maxSize: context.maxSize,
    maxMetadataLength: context.maxMetadataLength,
    dotfiles: context.dotfiles,
    expires: context.now() + context.expires,
  };
  const send = (plan: { status: number; headers: Record<string, string> }, text?: string) =>
    answer(req, res, plan.status, plan.headers, text, { bodyUnread: true });

  // First without the upload: OPTIONS, a wrong version (412) and a missing token (401) are
  // answered before anything is looked up or any lock taken (a request without the token must not
  // cut off the upload's running PATCH).
  const newId = newUploadId();
  const location = `${mountPrefix(req)}${TUS_ENDPOINT}${newId}`;
  const first = planTusRequest(method, req.headers, undefined, { ...base, location });
  const m = String(req.headers['x-http-method-override'] ?? method)
    .trim()
    .toUpperCase();
  if (m === 'OPTIONS' || first.status === 412 || first.status === 401 || first.status === 405) {
    return send(first, first.reason);
  }
  if (id === undefined) {
    if (m !== 'POST') {
      const allow = { 'Tus-Resumable': '1.0.0', Allow: 'OPTIONS, POST' };
      return send({ status: 405, headers: allow }, 'Method Not Allowed');
    }
    return create(context, req, res, first, newId);
  }
  if (m === 'POST') {
    const allow = { 'Tus-Resumable': '1.0.0', Allow: 'OPTIONS, HEAD, PATCH, DELETE' };
    return send({ status: 405, headers: allow }, 'Method Not Allowed');
  }
  if (!context.store.isId(id)) {
    return send(
      { status: 404, headers: { 'Tus-Resumable': '1.0.0', 'Cache-Control': 'no-store' } },
      'unknown upload',
    );
  }
  const held = await hold(context, id);
  if (held === undefined) {
    return send(
      { status: 409, headers: { 'Tus-Resumable': '1.0.0' } },
      'a newer request for this upload took over; ask for its offset (HEAD)',
    );
  }
  try {
    const loaded = await context.store.load(id);
    const plan = planTusRequest(method, req.headers, loaded && tusState(context, loaded), base);
    const action = plan.action;
    if (action.kind === 'none' || loaded === undefined) return send(plan, plan.reason);
    if (action.kind === 'terminate') {
      await context.store.end(loaded.record, 'terminated');
      return send(plan);
    }
    if (action.kind !== 'append') return send(plan, plan.reason);
    let record = loaded.record;
    if (record.status !== 'active') {
      // A finished upload: nothing more to store; an empty PATCH at its end is answered as done.
      const outcome: TusBodyOutcome =
        plan.status === 204 && action.append.limit === 0
          ? { kind: 'stored', offset: loaded.offset }
          : { kind: 'too-large', offset: loaded.offset };
      const done = finishTusBody(plan, outcome);
      return send(done, outcome.kind === 'stored' ? undefined : 'the upload is complete');
    }
    if (action.declareLength !== undefined) {
      record = await context.store.declareLength(record, action.declareLength);
    }
    await storeBody(context, req, res, plan, { ...loaded, record }, action.append, held);
  } finally {
    held.release();
  }
}

/** The state the planner sees. */
function tusState(context: UploadContext, loaded: Loaded): TusUploadState {
  const r = loaded.record;
  const status = statusOf(context, loaded);
  return {
    status,
    offset: loaded.offset,
    length: r.length ?? undefined,
    metadata: r.metadata ?? undefined,
    concat: r.concat ?? undefined,
    expires: r.activity + context.expires,
  };
}

/** Stores the body of a PATCH (or a creation with upload) and answers. */
async function storeBody(
  context: UploadContext,
  req: Request,
  res: Response,
  plan: TusPlan,
  loaded: Loaded,
  append: { limit: number; checksum?: { algorithm: string; digest: Uint8Array } | undefined },
  held: Held,
): Promise<void> {
  const { record, appended } = await appendBody(context, req, loaded, append, held);
  if (appended.kind === 'interrupted') {
    // The client went, a newer request took over, or the body was too slow: what arrived is kept,
    // and the client learns the offset with HEAD. An answer is still tried for a slow client.
    return answer(
      req,
      res,
      408,
      { ...plan.headers, 'Upload-Offset': String(appended.offset), Connection: 'close' },
      'upload body stopped',
    );
  }
  if (appended.kind === 'conflict') {
    // Another server of the same bucket appended meanwhile: this body did not count.
    return answer(
      req,
      res,
      409,
      { ...plan.headers, 'Upload-Offset': String(appended.offset) },
      'Conflict: another request appended to this upload meanwhile; ask for its offset (HEAD)',
      { bodyUnread: true },
    );
  }
  if (appended.kind === 'no-space') {
    return answer(
      req,
      res,
      507,
      { ...plan.headers, 'Upload-Offset': String(appended.offset) },
      'Insufficient Storage: the disk is full',
      { bodyUnread: true },
    );
  }
  let outcome: TusBodyOutcome = appended;
  if (appended.kind === 'stored') {
    const completion = await completeIfDone(context, record, appended.offset);
    const refused = completionRefusal(completion);
    // The offset the bytes reached: the client tells this refusal from an offset mismatch.
    const offset = { 'Upload-Offset': String(appended.offset) };
    if (refused !== undefined)
      return answer(req, res, 409, { ...plan.headers, ...offset }, refused);
    outcome = { kind: 'stored', offset: appended.offset };
  }
  const done = finishTusBody(plan, outcome);
  if (done.status === 413 && context.maxSize !== undefined) {
    done.headers['Tus-Max-Size'] = String(context.maxSize);
  }
  const text =
    outcome.kind === 'checksum-mismatch'
      ? 'Checksum Mismatch'
      : outcome.kind === 'too-large'
        ? 'body past the upload length'
        : undefined;
  answer(req, res, done.status, done.headers, text, { bodyUnread: outcome.kind !== 'stored' });
}

function completionRefusal(completion: Completion): string | undefined {
  if (completion.kind === 'exists') return `Cannot complete the upload: ${completion.reason}`;
  if (completion.kind === 'blocked') return `Cannot complete the upload: ${completion.reason}`;
  return undefined;
}

/** POST to the endpoint: creation, creation-with-upload, and concatenation's final upload. */
async function create(
  context: UploadContext,
  req: Request,
  res: Response,
  plan: TusPlan,
  id: string,
): Promise<void> {
  const send = (status: number, text: string, extra: Record<string, string> = {}) =>
    answer(req, res, status, { 'Tus-Resumable': '1.0.0', ...extra }, text, { bodyUnread: true });
  const action = plan.action;
  if (action.kind !== 'create' && action.kind !== 'create-final') {
    return answer(req, res, plan.status, plan.headers, plan.reason, { bodyUnread: true });
  }
  const reserved = action.filename === undefined ? undefined : reservedTarget(action.filename);
  if (reserved !== undefined) return send(400, reserved);
  let partials: UploadRecord[] = [];
  let length = action.kind === 'create' ? (action.length ?? null) : 0;
  if (action.kind === 'create-final') {
    const found = await finalParts(context, action.urls);
    if (typeof found === 'string') return send(400, found);
    partials = found;
    length = partials.reduce((sum, p) => sum + (p.length ?? 0), 0);
    if (context.maxSize !== undefined && length > context.maxSize) {
      return send(413, 'the concatenated upload is above Tus-Max-Size', {
        'Tus-Max-Size': String(context.maxSize),
      });
    }
  }
  const held = await hold(context, id);
  if (held === undefined) return send(409, 'the new upload was taken over');
  try {
    const created = await context.store.create({
      id,
      protocol: 'tus',
      target: action.filename ?? null,
      length,
      metadata: action.rawMetadata ?? null,
      concat:
        action.kind === 'create-final'
          ? { kind: 'final', urls: action.urls }
          : action.partial
            ? { kind: 'partial' }
            : null,
    });
    if (created.kind === 'taken' || created.kind === 'blocked') return send(409, created.reason);
    if (created.kind === 'full')
      return send(
        created.status,
        created.reason,
        created.status === 503 ? { 'Retry-After': '60' } : {},
      );
    let record = created.record;
    if (action.kind === 'create-final') {
      record = await context.store.concatenate(record, partials);
      const completion = await completeIfDone(context, record, record.length ?? 0);
      const refused = completionRefusal(completion);
      if (refused !== undefined) {
        await context.store.end(record, 'terminated');
        return send(409, refused);
      }
      return answer(req, res, plan.status, plan.headers);
    }
    if (action.append !== undefined) {
      return await storeBody(
        context,
        req,
        res,
        plan,
        { record, offset: 0, stored: 0 },
        action.append,
        held,
      );
    }
    // A zero-length upload is complete at its creation.
    const completion = await completeIfDone(context, record, 0);
    const refused = completionRefusal(completion);
    if (refused !== undefined) return send(409, refused);
    answer(req, res, plan.status, plan.headers);
  } finally {
    held.release();
  }
}

/** The partial uploads a final concatenation names, all complete, or why not (400). */
async function finalParts(
  context: UploadContext,
  urls: readonly string[],
): Promise<UploadRecord[] | string> {
  const records: UploadRecord[] = [];
  for (const url of urls) {
    const path = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '').split('?')[0] ?? '';
    const at = path.lastIndexOf(TUS_ENDPOINT);
    const id = at === -1 ? '' : path.slice(at + TUS_ENDPOINT.length);
    const loaded = context.store.isId(id) ? await context.store.load(id) : undefined;
    if (loaded === undefined) return `unknown partial upload ${url}`;
    const r = loaded.record;
    if (r.concat?.kind !== 'partial') return `${url} is not a partial upload`;
    // tus 1.0.0 §Concatenation: the Server MAY concatenate unfinished partial uploads; ranged
    // takes complete ones only, so the final is complete at its creation.
    if (statusOf(context, loaded) !== 'complete') return `partial upload ${url} is not complete`;
    records.push(r);
  }
  return records;
}
