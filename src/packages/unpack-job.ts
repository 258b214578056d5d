/** Runs in an unpacking thread (see unpack.ts): extracts one archive at a time into its staging folder and reports how it went. */
import { parentPort } from 'node:worker_threads';
import { PackageError } from './errors.js';
import { extractPackageTarball } from './extract.js';
import { LimitCounter } from './limits.js';
import type { UnpackRequest, UnpackResult } from './unpack.js';

async function unpack(request: UnpackRequest): Promise<UnpackResult> {
  try {
    await extractPackageTarball(request.tarball, request.staging, new LimitCounter(request.limits), request.limits.maxUnpackedBytes);
    return { ok: true };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return error instanceof PackageError
      ? { ok: false, refused: { code: error.code, message } }
      : { ok: false, failed: { message, code: (error as NodeJS.ErrnoException | undefined)?.code } };
  }
}

const port = parentPort!;
port.on('message', (request: UnpackRequest) => {
  void unpack(request).then((result) => port.postMessage(result));
});
