import { createHash } from 'node:crypto';

/** Short stable tag of a database name: file names on the server never carry the name itself (any character may be in it). */
export function fileTag(database: string): string {
  return createHash('sha256').update(database, 'utf8').digest('hex').slice(0, 16);
}

/** The directory part of a server path, Windows (C:\…\x.mdf) or Linux (/var/opt/mssql/data/x.mdf). */
export function directoryOf(path: string): string {
  const cut = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return cut < 0 ? '' : path.slice(0, cut);
}

/** Joins a server directory and a file name with the separator the directory already uses. */
export function serverPath(directory: string, file: string): string {
  if (directory === '') return file;
  if (directory.endsWith('/') || directory.endsWith('\\')) return directory + file;
  return directory + (directory.includes('\\') && !directory.includes('/') ? '\\' : '/') + file;
}

/** One backup file per source database, overwritten by the next copy (WITH INIT), so a login that cannot delete files does not fill the disk. */
export function backupFileName(source: string): string {
  return `cutover-${fileTag(source)}.bak`;
}

/** FILELISTONLY types: D data, L log, S FILESTREAM and F full-text (folders, no extension). */
export function restoredFileName(target: string, nonce: string, file: { type: string; fileId: number }): string {
  const base = `cutover-${fileTag(target)}-${nonce}-${file.fileId}`;
  if (file.type === 'L') return `${base}.ldf`;
  if (file.type === 'D') return `${base}${file.fileId === 1 ? '.mdf' : '.ndf'}`;
  return base;
}

export function snapshotFileName(snapshot: string, nonce: string, fileId: number): string {
  return `cutover-${fileTag(snapshot)}-${nonce}-${fileId}.ss`;
}
