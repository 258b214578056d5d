import { writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { Header, Pax, type HeaderData } from 'tar';

export interface RawTarEntry {
  path: string;
  type?: HeaderData['type'];
  body?: string;
  linkpath?: string;
  mode?: number;
}

/**
 * Writes a .tar.gz header by header, with no sanitising at all: the only way to build the
 * malicious archives (absolute paths, "..", links, devices, very deep paths) a package store must
 * refuse. `after` is appended behind the end-of-archive marker, inside the gzip stream.
 */
export async function writeRawTarball(file: string, entries: RawTarEntry[], after: Buffer = Buffer.alloc(0)): Promise<string> {
  await writeFile(file, gzipSync(Buffer.concat([rawTar(entries), after]), { level: 9 }));
  return file;
}

/** The uncompressed tar of writeRawTarball, end-of-archive marker included. */
function rawTar(entries: RawTarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = Buffer.from(entry.body ?? '');
    const header = Buffer.alloc(512);
    const needsPax = new Header({
      path: entry.path,
      type: entry.type ?? 'File',
      mode: entry.mode ?? (entry.type === 'Directory' ? 0o755 : 0o644),
      size: entry.type === undefined || entry.type === 'File' ? body.length : 0,
      linkpath: entry.linkpath ?? '',
      mtime: new Date(0),
      uid: 0,
      gid: 0,
    }).encode(header, 0);
    // A path too long for the ustar header goes in a pax header just before, as tar itself writes it.
    if (needsPax) blocks.push(new Pax({ path: entry.path }).encode());
    blocks.push(header);
    if (body.length > 0 && (entry.type === undefined || entry.type === 'File')) {
      blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
