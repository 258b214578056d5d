import pg from 'pg';
import type { DatabaseHandle } from '../engine.js';
import { connectionStringTo } from './connection-url.js';

export interface ConnectOptions {
  /** How long to wait for the server before calling it unreachable. */
  timeoutMs?: number;
  /** Gives up on any single query after this long (none by default: copies and migrations take what they take). */
  queryTimeoutMs?: number;
}

/** A client on one database of the handle's server, as the handle's role. */
export async function connectTo(db: DatabaseHandle, database: string, options: ConnectOptions = {}): Promise<pg.Client> {
  const timeout = options.timeoutMs ?? 10_000;
  const client = new pg.Client({
    connectionString: connectionStringTo(db, database),
    connectionTimeoutMillis: timeout,
    query_timeout: options.queryTimeoutMs,
    application_name: 'cutover',
  });
  // A server-side termination is reported by the next query; without a listener it would crash the worker.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return client;
}

export async function withConnection<T>(
  db: DatabaseHandle,
  database: string,
  work: (client: pg.Client) => Promise<T>,
  options?: ConnectOptions,
): Promise<T> {
  const client = await connectTo(db, database, options);
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The maintenance database: where databases are created, renamed and dropped. */
export const MAINTENANCE_DATABASE = 'postgres';

export function withMaintenance<T>(db: DatabaseHandle, work: (admin: pg.Client) => Promise<T>): Promise<T> {
  return withConnection(db, MAINTENANCE_DATABASE, work);
}
