/**
 * The peer of the s3 section's upload, in a process of its own: a direct multipart upload to the
 * store with the client library ranged's S3 source uses, set up the same way (connectS3 in
 * src/server/sources/s3-client.ts: @aws-sdk/client-s3, path-style, checksums only where S3
 * requires them, keep-alive, one attempt per request):
 * `node s3-upload-child.js BUCKET KEY CHUNK_FILE...`, with the AWS_* variables in the environment.
 * CreateMultipartUpload, then one UploadPart per chunk file, in order, one at a time (each file is
 * read while the part before it uploads, as curl reads its file while it sends), then
 * CompleteMultipartUpload. Prints `{"ms":N,"cpuMs":N,"parts":N,"etag":"…"}`: the time from the
 * CreateMultipartUpload request to the CompleteMultipartUpload answer (the object exists then),
 * and this process's CPU time over it; Node's start-up, the module load and the client's setup
 * are in neither.
 */
import { readFile } from 'node:fs/promises';
import { connectS3 } from '../src/server/sources/s3-client.js';

const [bucket, key, ...chunks] = process.argv.slice(2);
if (bucket === undefined || key === undefined || chunks.length === 0) {
  process.stderr.write('usage: s3-upload-child.js BUCKET KEY CHUNK_FILE...\n');
  process.exit(2);
}

const { sdk, client } = await connectS3({ timeout: 60_000 });
let uploadId: string | undefined;
try {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const created = await client.send(
    new sdk.CreateMultipartUploadCommand({ Bucket: bucket, Key: key }),
  );
  uploadId = created.UploadId;
  const parts: { PartNumber: number; ETag: string }[] = [];
  let next = readFile(chunks[0] ?? '');
  for (let i = 0; i < chunks.length; i++) {
    const body = await next;
    const following = chunks[i + 1];
    if (following !== undefined) next = readFile(following);
    const part = await client.send(
      new sdk.UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: i + 1,
        Body: body,
        ContentLength: body.length,
      }),
    );
    parts.push({ PartNumber: i + 1, ETag: part.ETag ?? '' });
  }
  const done = await client.send(
    new sdk.CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId: uploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  uploadId = undefined;
  const cpuMs = (cpu.user + cpu.system) / 1000;
  process.stdout.write(
    `${JSON.stringify({ ms, cpuMs, parts: parts.length, etag: done.ETag ?? '' })}\n`,
  );
} catch (error) {
  process.stderr.write(`s3-upload-child: ${(error as Error).stack ?? String(error)}\n`);
  if (uploadId !== undefined) {
    await client
      .send(new sdk.AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
      .catch(() => {});
  }
  process.exitCode = 1;
} finally {
  client.destroy();
}
