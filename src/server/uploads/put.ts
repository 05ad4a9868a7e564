/**
 * A plain `PUT /path` with the token and none of the draft's fields (issue 12): the body is stored
 * all or nothing, so `curl -T file -H 'Authorization: Bearer …' URL` works. It goes through the
 * same store as the resumable protocols: the file appears at its target with one link() once the
 * whole body is there, and a body cut short leaves nothing behind.
 */
import type { Request, Response } from '../exchange.js';
import { appendBody, completeIfDone, hold } from './append.js';
import { answer, checkToken, type UploadContext } from './context.js';
import { newUploadId } from './file-store.js';

/** Stores the body of a PUT at `target` (the checked path segments of the request). */
export async function handlePut(
  context: UploadContext,
  req: Request,
  res: Response,
  target: string[],
): Promise<void> {
  const refuse = (status: number, text: string, headers: Record<string, string> = {}) =>
    answer(req, res, status, headers, text, { bodyUnread: true });
  const token = checkToken(req, context.token);
  if (token !== 'ok')
    return refuse(401, `Unauthorized: ${token} token`, { 'WWW-Authenticate': 'Bearer' });
  if (target.length === 0) return refuse(405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
  const lengthField = req.headers['content-length'];
  let length: number | null = null;
  if (lengthField !== undefined) {
    if (!/^[0-9]+$/.test(lengthField) || !Number.isSafeInteger(Number(lengthField))) {
      return refuse(400, 'bad Content-Length');
    }
    length = Number(lengthField);
  }
  const max = context.maxSize;
  if (length !== null && max !== undefined && length > max) {
    return refuse(413, `Content Too Large: the limit is ${max} bytes`);
  }
  const id = newUploadId();
  const held = await hold(context, id);
  if (held === undefined) return refuse(409, 'taken over');
  try {
    const created = await context.store.create({
      id,
      protocol: 'put',
      target,
      length,
      metadata: null,
      concat: null,
    });
    if (created.kind === 'taken' || created.kind === 'blocked')
      return refuse(409, `Conflict: ${created.reason}`);
    if (created.kind === 'full') return refuse(created.status, created.reason);
    let record = created.record;
    const limit = length ?? max ?? Number.MAX_SAFE_INTEGER;
    const stored = await appendBody(
      context,
      req,
      { record, offset: 0, stored: 0 },
      { limit },
      held,
    );
    record = stored.record;
    const { appended } = stored;
    const whole = appended.kind === 'stored' && (length === null || appended.offset === length);
    if (!whole) {
      // All or nothing: a body cut short, too large or on a full disk leaves no trace.
      await context.store.end(record, 'terminated');
      if (appended.kind === 'too-large')
        return refuse(413, `Content Too Large: the limit is ${limit} bytes`);
      if (appended.kind === 'conflict') return refuse(409, 'Conflict: another request took over');
      if (appended.kind === 'no-space')
        return refuse(507, 'Insufficient Storage: the disk is full');
      return refuse(400, 'the body ended before Content-Length');
    }
    if (record.length === null) record = await context.store.declareLength(record, appended.offset);
    const completion = await completeIfDone(context, record, appended.offset);
    if (completion.kind === 'exists' || completion.kind === 'blocked') {
      await context.store.end(record, 'terminated');
      return refuse(409, `Conflict: ${completion.reason}`);
    }
    answer(req, res, 201, {}, 'Created');
  } finally {
    held.release();
  }
}
