import type { DatabaseHandle } from '../engine.js';

/** One T-SQL statement as the engine sends it: built by the pure functions of statements/, sent by a session. */
export interface SqlStatement {
  text: string;
  /** Named nvarchar parameters (@name): only plain queries take them, through sp_executesql. */
  params?: Record<string, string>;
}

export type Row = Record<string, unknown>;

/** One server session (one connection), so that SET options, transactions and session locks carry over between statements. */
export interface SqlSession {
  /** Without parameters the text goes as a batch, exactly as written; returns the rows of its last result set. */
  run<T extends object = Row>(statement: SqlStatement): Promise<T[]>;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** How long to wait for the server before calling it unreachable. */
  timeoutMs?: number;
  /** Gives up on any single statement after this long (none by default: copies and migrations take what they take). */
  requestTimeoutMs?: number;
}

/** Opens a session on one database of the handle's server, as the handle's login. */
export type Connector = (db: DatabaseHandle, database: string, options?: ConnectOptions) => Promise<SqlSession>;

/** The server-level database where databases are created, renamed and dropped. */
export const MASTER = 'master';

export async function withSession<T>(
  connect: Connector,
  db: DatabaseHandle,
  database: string,
  work: (session: SqlSession) => Promise<T>,
  options?: ConnectOptions,
): Promise<T> {
  const session = await connect(db, database, options);
  try {
    return await work(session);
  } finally {
    await session.close().catch(() => undefined);
  }
}
