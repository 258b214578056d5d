import { createReadStream, createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { chmod } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { PackageError } from './errors.js';
import { describeBytes, type LimitCounter } from './limits.js';
import { checkPackagePath } from './paths.js';

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

/** What may follow a tar's end-of-archive marker: padding to a record (10 KB by default in tar), never content. */
export const MAX_BYTES_AFTER_END = 1024 * 1024;

function unsafe(entry: ReadEntry, reason: string): PackageError {
  return new PackageError('unsafe-entry', `unsafe entry "${entry.path}" in the package archive: ${reason}`);
}

/** Why an entry type is refused; undefined for plain files and folders. */
function refusedType(entry: ReadEntry): string | undefined {
  if (FILE_TYPES.has(entry.type) || entry.type === 'Directory') return undefined;
  if (entry.type === 'SymbolicLink') return `it is a symbolic link (to "${entry.linkpath ?? ''}"): a package must not contain links`;
  if (entry.type === 'Link') return `it is a hard link (to "${entry.linkpath ?? ''}"): a package must not contain links`;
  if (entry.type === 'CharacterDevice' || entry.type === 'BlockDevice') return 'it is a device: a package holds only files and folders';
  if (entry.type === 'FIFO') return 'it is a FIFO: a package holds only files and folders';
  if (entry.meta) return 'its extended header is larger than 1 MB';
  return `its type "${entry.type}" is not supported: a package holds only files and folders`;
}

/** tar unpacks a gzip or zstd stream it is given by itself, out of our count: the tar inside must not be compressed again. */
const COMPRESSED_AGAIN = [Buffer.from([0x1f, 0x8b]), Buffer.from([0x28, 0xb5, 0x2f, 0xfd])];
const SNIFFED_BYTES = 4;

/**
 * Counts the unpacked bytes of an archive and stops passing them on once the tar has ended: a bomb of
 * compressed zeros after the end-of-archive marker is refused after 1 MB, not buffered and parsed.
 */
function unpackedBytesGate(maxUnpackedBytes: number, ended: () => boolean): Transform {
  let unpacked = 0;
  let afterEnd = 0;
  // The first bytes wait until tar's sniffing can be checked (zlib's first chunk is rarely this short).
  let head: Buffer | undefined = Buffer.alloc(0);
  const checkHead = (bytes: Buffer): PackageError | undefined =>
    COMPRESSED_AGAIN.some((magic) => bytes.subarray(0, magic.length).equals(magic))
      ? new PackageError('invalid-source', 'the package archive is compressed twice: a .tar.gz holds a tar, not another compressed file')
      : undefined;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (head) {
        head = Buffer.concat([head, chunk]);
        if (head.length < SNIFFED_BYTES) return done();
        const refused = checkHead(head);
        if (refused) return done(refused);
        chunk = head;
        head = undefined;
      }
      unpacked += chunk.length;
      if (unpacked > maxUnpackedBytes) {
        const limit = describeBytes(maxUnpackedBytes);
        const message = `the package archive unpacks to more than ${limit}, the limit (packages.maxUnpackedBytes)`;
        return done(new PackageError('too-large', message));
      }
      if (!ended()) return done(null, chunk);
      afterEnd += chunk.length;
      if (afterEnd > MAX_BYTES_AFTER_END) {
        const limit = describeBytes(MAX_BYTES_AFTER_END);
        const message = `the package archive goes on for more than ${limit} after the end of its tar, the limit for padding`;
        return done(new PackageError('too-large', message));
      }
      done();
    },
    flush(done) {
      if (head && head.length > 0) return done(checkHead(head), head);
      done();
    },
  });
}

/** zlib marks its errors with Z_* codes: those mean the upload is not gzip, or is cut short. */
const isZlibError = (error: unknown) => /^Z_/.test(String((error as { code?: unknown } | undefined)?.code ?? ''));

/**
 * Extracts a gzipped tarball into an empty staging folder, entry by entry, with our own checks
 * instead of tar's best-effort sanitising: any entry that could write outside the folder, any link,
 * device or FIFO, any duplicate, and anything over the limits stops the whole import. Reading stops
 * at the tar's end; what the archive unpacks to is capped (maxUnpackedBytes).
 */
export async function extractPackageTarball(
  tarball: string,
  staging: string,
  limits: LimitCounter,
  maxUnpackedBytes: number,
): Promise<void> {
  const kinds = new Map<string, 'file' | 'dir'>();
  const outputs: WriteStream[] = [];
  const writes: Promise<void>[] = [];

  /** Checks an entry against the ones already seen; returns its normalised path ('' is the root). */
  const admit = (entry: ReadEntry): string => {
    const checked = checkPackagePath(entry.path);
    if (!checked.ok) throw unsafe(entry, checked.reason);
    const refused = refusedType(entry);
    if (refused) throw unsafe(entry, refused);
    const kind = entry.type === 'Directory' ? 'dir' : 'file';
    const path = checked.path;
    if (path === '') {
      if (kind === 'file') throw unsafe(entry, 'a file cannot be the package root');
      return path;
    }
    const segments = path.split('/');
    for (let i = 1; i < segments.length; i++) {
      const parent = segments.slice(0, i).join('/');
      if (kinds.get(parent) === 'file') throw unsafe(entry, `"${parent}" is a file earlier in the archive, not a folder`);
      kinds.set(parent, 'dir');
    }
    const seen = kinds.get(path);
    if (seen === 'file' || (seen === 'dir' && kind === 'file')) throw unsafe(entry, 'the path appears twice in the archive');
    limits.add(path, kind === 'file' ? entry.size : 0);
    kinds.set(path, kind);
    return path;
  };

  const write = (entry: ReadEntry, path: string, fail: (error: unknown) => void): void => {
    const target = join(staging, path);
    if (entry.type === 'Directory') {
      mkdirSync(target, { recursive: true });
      entry.resume();
      return;
    }
    mkdirSync(dirname(target), { recursive: true });
    const executable = ((entry.mode ?? 0o644) & 0o111) !== 0;
    const output = createWriteStream(target, { flags: 'wx', mode: 0o600 });
    outputs.push(output);
    output.on('error', fail);
    // Explicit mode afterwards: the umask must not decide whether the executable bit (part of the id) survives.
    const written = finished(output).then(() => chmod(target, executable ? 0o755 : 0o644));
    written.catch(() => undefined); // reported through fail or the Promise.all below
    writes.push(written);
    entry.pipe(output);
  };

  try {
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      let tarEnded = false;
      const source = createReadStream(tarball);
      const gunzip = createGunzip();
      const gate = unpackedBytesGate(maxUnpackedBytes, () => tarEnded);
      const parser = new Parser({ strict: true });
      const fail = (error: unknown) => {
        if (failed) return;
        failed = true;
        gate.unpipe(parser);
        for (const stream of [source, gunzip, gate]) stream.destroy();
        // tar marks its own errors with tarCode: those mean a broken archive, the rest are our disk's problems.
        const broken = error instanceof Error && ('tarCode' in error || isZlibError(error));
        reject(broken ? new PackageError('invalid-source', `the package archive is not a readable .tar.gz: ${error.message}`) : error);
      };
      parser.on('entry', (entry: ReadEntry) => {
        if (failed) {
          entry.resume();
          return;
        }
        try {
          write(entry, admit(entry), fail);
        } catch (error) {
          entry.resume();
          fail(error);
        }
      });
      // tar skips entry types it does not know without telling onReadEntry: refuse them here.
      parser.on('ignoredEntry', (entry: ReadEntry) => fail(unsafe(entry, refusedType(entry) ?? 'tar could not read it')));
      parser.on('eof', () => {
        tarEnded = true;
      });
      parser.on('error', fail);
      for (const stream of [source, gunzip, gate]) stream.on('error', fail);
      parser.on('end', () => {
        if (!failed) resolve();
      });
      source.pipe(gunzip).pipe(gate).pipe(parser);
    });
    await Promise.all(writes);
  } catch (error) {
    for (const output of outputs) output.destroy();
    await Promise.allSettled(writes);
    throw error;
  }
}
