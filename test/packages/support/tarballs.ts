import { writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { Header, type HeaderData } from 'tar';

export interface RawTarEntry {
  path: string;
  type?: HeaderData['type'];
  body?: string;
  linkpath?: string;
  mode?: number;
}

/**
 * Writes a .tar.gz header by header, with no sanitising at all: the only way to build the
 * malicious archives (absolute paths, "..", links, devices) a package store must refuse.
 */
export async function writeRawTarball(file: string, entries: RawTarEntry[]): Promise<string> {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = Buffer.from(entry.body ?? '');
    const header = Buffer.alloc(512);
    new Header({
      path: entry.path,
      type: entry.type ?? 'File',
      mode: entry.mode ?? (entry.type === 'Directory' ? 0o755 : 0o644),
      size: entry.type === undefined || entry.type === 'File' ? body.length : 0,
      linkpath: entry.linkpath ?? '',
      mtime: new Date(0),
      uid: 0,
      gid: 0,
    }).encode(header, 0);
    blocks.push(header);
    if (body.length > 0 && (entry.type === undefined || entry.type === 'File')) {
      blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  await writeFile(file, gzipSync(Buffer.concat(blocks)));
  return file;
}
