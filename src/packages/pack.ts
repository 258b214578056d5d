import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { Header, Pax } from 'tar';
import { walkPackageTree, type TreeEntry } from './tree.js';

const BLOCK = 512;
const EPOCH = new Date(0);

/** A ustar header with nothing machine-specific in it: fixed owner, time and modes. */
function headerFor(entry: TreeEntry): Buffer {
  const path = entry.kind === 'dir' ? `${entry.path}/` : entry.path;
  const header = new Header({
    path,
    mode: entry.kind === 'dir' || entry.executable ? 0o755 : 0o644,
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
    size: entry.size,
    mtime: EPOCH,
    type: entry.kind === 'dir' ? 'Directory' : 'File',
  });
  const block = Buffer.alloc(BLOCK);
  // A path too long for ustar goes in a pax header just before.
  const needPax = header.encode(block, 0);
  return needPax ? Buffer.concat([new Pax({ path }).encode(), block]) : block;
}

async function* tarBlocks(dir: string, entries: TreeEntry[]): AsyncGenerator<Buffer> {
  for (const entry of entries) {
    yield headerFor(entry);
    if (entry.kind === 'dir') continue;
    let written = 0;
    for await (const chunk of createReadStream(join(dir, entry.path)) as AsyncIterable<Buffer>) {
      written += chunk.length;
      if (written > entry.size) break;
      yield chunk;
    }
    if (written !== entry.size) throw new Error(`"${entry.path}" changed while it was being packed; pack again`);
    const padding = (BLOCK - (entry.size % BLOCK)) % BLOCK;
    if (padding > 0) yield Buffer.alloc(padding);
  }
  yield Buffer.alloc(2 * BLOCK);
}

/**
 * Writes a deterministic .tar.gz of a package folder: sorted entries, fixed times and owners,
 * modes 0644/0755. The same folder content always gives the same bytes. Links are refused, as
 * the store would refuse them. The file appears complete or not at all.
 */
export async function packDirectory(dir: string, outFile: string): Promise<void> {
  const entries = await walkPackageTree(dir);
  const partial = `${outFile}.partial-${process.pid}`;
  try {
    await pipeline(Readable.from(tarBlocks(dir, entries)), createGzip({ level: 9 }), createWriteStream(partial));
    await rename(partial, outFile);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}
