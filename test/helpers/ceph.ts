/**
 * S3 on a real Ceph RADOS Gateway for the tests. When the run was started under
 * `node dist/scripts/ceph.js run -- ...` (RANGED_TEST_S3 and the AWS_* variables set), every test
 * file shares that cluster; otherwise each useCeph() starts its own (about 2 s) and stops it.
 * Either way each call gets a fresh bucket of its own, so test files never see each other's
 * objects.
 */
import { randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { cephEnv, cephS3Client, startCeph } from '../../scripts/ceph.js';

export interface TestS3 {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** A new, empty bucket for this caller (`ranged-<hex>`). */
  bucket: string;
  /** AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, RANGED_TEST_S3. */
  env: Record<string, string>;
  /** A client for the endpoint (path-style); destroyed by stop(). */
  client: S3Client;
  /** Empties and deletes the bucket (best effort), then stops the cluster if it started one. */
  stop(): Promise<void>;
}

export async function useCeph(): Promise<TestS3> {
  const { RANGED_TEST_S3, AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION } =
    process.env;
  const shared =
    RANGED_TEST_S3 !== undefined &&
    AWS_ENDPOINT_URL !== undefined &&
    AWS_ACCESS_KEY_ID !== undefined &&
    AWS_SECRET_ACCESS_KEY !== undefined;
  const cluster = shared
    ? undefined
    : await startCeph({ log: (line) => process.stderr.write(`${line}\n`) });
  const target = cluster ?? {
    endpoint: AWS_ENDPOINT_URL as string,
    accessKeyId: AWS_ACCESS_KEY_ID as string,
    secretAccessKey: AWS_SECRET_ACCESS_KEY as string,
    region: AWS_REGION ?? 'us-east-1',
  };
  const client = cephS3Client(target);
  const bucket = `ranged-${randomBytes(6).toString('hex')}`;
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    client.destroy();
    await cluster?.stop();
    throw error;
  }
  const s3 = { ...target, bucket };
  let stopping: Promise<void> | undefined;
  return {
    endpoint: s3.endpoint,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    region: s3.region,
    bucket,
    env: cephEnv(s3),
    client,
    stop() {
      stopping ??= (async () => {
        if (cluster === undefined) await emptyAndDelete(client, bucket).catch(() => {});
        client.destroy();
        await cluster?.stop();
      })();
      return stopping;
    },
  };
}

/** Aborts the bucket's multipart uploads, deletes its objects, then the bucket. */
async function emptyAndDelete(client: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    for (const upload of uploads.Uploads ?? [])
      await client.send(
        new AbortMultipartUploadCommand({
          Bucket: bucket,
          Key: upload.Key,
          UploadId: upload.UploadId,
        }),
      );
    if (!uploads.IsTruncated) break;
  }
  for (;;) {
    const list = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (list.Contents ?? []).map((object) => ({ Key: object.Key }));
    if (keys.length > 0)
      await client.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }),
      );
    if (!list.IsTruncated) break;
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}
