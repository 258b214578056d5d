/** A package named on the command line: a local directory (packed) or .tar.gz is uploaded; sha256:<id> is used as is. */
import { createHash } from 'node:crypto';
import { createReadStream, openAsBlob } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { packDirectory } from '../packages/pack.js';
import { println, type CliContext } from './context.js';
import { CliError, exitCodes } from './exit-codes.js';
import type { UploadedPackage } from './types.js';

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

async function upload(ctx: CliContext, file: string): Promise<UploadedPackage> {
  // A Blob backed by the file: streamed from disk, with its length known.
  const body = await openAsBlob(file);
  const response = await ctx.api.request('POST', '/v1/packages', { body, headers: { 'content-type': 'application/gzip' } });
  const uploaded = (await response.json()) as UploadedPackage;
  if (uploaded.upload.sha256 !== (await sha256File(file))) {
    throw new CliError(`the upload of ${file} arrived altered (checksum mismatch); try again`, exitCodes.unreachable);
  }
  return uploaded;
}

export async function packageReference(ctx: CliContext, input: string): Promise<string> {
  if (/^sha256:[0-9a-f]{64}$/.test(input)) return input;
  const stats = await stat(input).catch(() => undefined);
  if (!stats)
    throw new CliError(
      `no package at ${input}: give a package directory, a .tar.gz file, or sha256:<id> of an uploaded package`,
      exitCodes.usage,
    );
  const scratch = stats.isDirectory() ? await mkdtemp(join(tmpdir(), 'cutover-pack-')) : null;
  try {
    let file = input;
    if (scratch) {
      file = join(scratch, 'package.tar.gz');
      await packDirectory(input, file).catch((error: Error) => {
        throw new CliError(`cannot pack ${input}: ${error.message}`, exitCodes.usage);
      });
    }
    const uploaded = await upload(ctx, file);
    if (!ctx.json) println(ctx.err, `Uploaded ${uploaded.name} ${uploaded.version} as ${uploaded.package}`);
    return uploaded.package;
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}
