/**
 * tus-js-client (Node build) uploading one file, in a process of its own, for the put section:
 * `node tus-js-child.js FILE ENDPOINT FILENAME TOKEN CHUNK`. The input is
 * `fs.createReadStream(FILE)`: tus-js-client's Node FileReader sees a ReadStream with a path and
 * reads each chunk from the file by its offset (its FileSource; a plain Readable would be buffered
 * chunk by chunk and needs a finite chunkSize); `uploadSize` is given anyway. The default Node
 * URL storage (NoopUrlStorage) keeps nothing between runs. Prints `{"ms":N,"url":"…"}`: the time
 * from `start()` to `onSuccess`, creation POST included.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Upload } from 'tus-js-client';

const [file, endpoint, filename, token, chunkText] = process.argv.slice(2);
if (file === undefined || endpoint === undefined || filename === undefined || token === undefined) {
  process.stderr.write('usage: tus-js-child.js FILE ENDPOINT FILENAME TOKEN [CHUNK]\n');
  process.exit(2);
}
const chunkSize = Number(chunkText ?? 8 * 1024 * 1024);
const { size } = await stat(file);

const started = performance.now();
const url = await new Promise<string>((resolve, reject) => {
  const upload = new Upload(createReadStream(file), {
    endpoint,
    chunkSize,
    uploadSize: size,
    metadata: { filename },
    headers: { Authorization: `Bearer ${token}` },
    // A failed PATCH is a failed run here, not something to retry behind the clock.
    retryDelays: null,
    onSuccess: () => resolve(upload.url ?? ''),
    onError: reject,
  });
  upload.start();
});
const ms = performance.now() - started;
process.stdout.write(`${JSON.stringify({ ms, url })}\n`);
