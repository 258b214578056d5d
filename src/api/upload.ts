/** Receives a package upload: streamed to a temporary file, counted against a limit and hashed on the way. */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { ApiError } from './errors.js';

export interface ReceivedUpload {
  file: string;
  bytes: number;
  sha256: string;
}

const GZIP_MAGIC = [0x1f, 0x8b];
const size = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB` : `${Math.round(bytes / 1024)} KB`;
const tooLarge = (limit: number) => new ApiError(413, 'too-large', `the upload is larger than ${size(limit)}, the most this API accepts`);
const notGzip = (message: string) => new ApiError(422, 'invalid-package', `body: ${message}`, { fields: [{ field: 'body', message }] });

export interface UploadLimits {
  maxBytes: number;
  /** Each upload gets a folder of its own in here. */
  dir: string;
}

/** Runs `use` on the received file, then removes it whatever happens. */
export async function withUpload<T>(
  body: ReadableStream<Uint8Array> | null,
  declaredLength: string | undefined,
  limits: UploadLimits,
  use: (upload: ReceivedUpload) => Promise<T>,
): Promise<T> {
  const limit = limits.maxBytes;
  // Refused before reading a byte when the client says how much is coming.
  if (declaredLength !== undefined && Number(declaredLength) > limit) throw tooLarge(limit);
  const dir = await mkdtemp(join(limits.dir, 'cutover-upload-'));
  try {
    const file = join(dir, 'package.tar.gz');
    const hash = createHash('sha256');
    let bytes = 0;
    let head: number[] = [];
    const source = body ? Readable.fromWeb(body as WebReadableStream<Uint8Array>) : Readable.from([]);
    await pipeline(
      source,
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          bytes += chunk.length;
          if (bytes > limit) throw tooLarge(limit);
          if (head.length < 2) head = [...head, ...chunk.subarray(0, 2 - head.length)];
          hash.update(chunk);
          yield chunk;
        }
      },
      createWriteStream(file),
    );
    if (bytes === 0) throw notGzip('is empty: send the package as a .tar.gz');
    if (head[0] !== GZIP_MAGIC[0] || head[1] !== GZIP_MAGIC[1]) throw notGzip('is not a .tar.gz (gzip) archive');
    return await use({ file, bytes, sha256: hash.digest('hex') });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
