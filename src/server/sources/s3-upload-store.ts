/** Placeholder until the S3 upload store lands (a helper is writing it). */
import type { S3Location } from '../../core/s3-location.js';
import type { StoreFactory } from '../uploads/uploads.js';
import type { S3Connection } from './s3-client.js';

export function s3UploadStore(_conn: S3Connection, _location: S3Location): StoreFactory {
  return () => {
    throw new Error('Cannot take uploads into S3 yet');
  };
}
