import type { DatabaseHandle } from '../../../src/engines/engine.js';
import type { Connector, Row, SqlSession, SqlStatement } from '../../../src/engines/sqlserver/session.js';

/** One statement as the engine sent it, and on which database's session. */
export interface Sent {
  database: string;
  text: string;
  params?: Record<string, string>;
}

export interface FakeDatabase {
  state: string;
  readOnly: boolean;
  snapshot: boolean;
}

/** A SQL Server error as mssql reports it. */
export function sqlError(number: number, message: string, lineNumber?: number): Error {
  return Object.assign(new Error(message), { name: 'RequestError', code: 'EREQUEST', number, lineNumber });
}

/** The first [bracketed] identifier after `after`, unquoted (]] → ]). */
function quotedAfter(text: string, after: RegExp): string {
  const start = text.search(after);
  const rest = text.slice(start).replace(after, '');
  const open = rest.indexOf('[');
  let name = '';
  for (let i = open + 1; i < rest.length; i++) {
    if (rest[i] === ']') {
      if (rest[i + 1] === ']') {
        name += ']';
        i++;
        continue;
      }
      return name;
    }
    name += rest[i];
  }
  throw new Error(`no quoted identifier after ${String(after)} in ${text}`);
}

/**
 * A scripted SQL Server for unit tests: it keeps a list of databases, understands exactly the statements
 * the engine builds, records every statement sent, and fails those a test asks it to.
 */
export class FakeSqlServer {
  readonly databases = new Map<string, FakeDatabase>();
  readonly sent: Sent[] = [];
  /** Per database: sessions other than Cutover's (program as login). */
  readonly sessions = new Map<string, Array<{ program: string; login: string }>>();
  /** Applied migrations of the original: name → checksum. */
  readonly history = new Map<string, string>();
  profile: Record<string, unknown> = {
    engineEdition: 3,
    dataPath: '/var/opt/mssql/data/',
    logPath: '/var/opt/mssql/log/',
    backupPath: '/var/opt/mssql/backup',
  };
  /** States an Azure SQL copy goes through, one per poll, before ONLINE. */
  copyStates: string[] = ['COPYING'];
  private readonly failures: Array<{ match: RegExp; error: Error; times: number }> = [];
  lockHeld = false;

  constructor(databases: Record<string, Partial<FakeDatabase>> = {}) {
    for (const [name, db] of Object.entries(databases))
      this.databases.set(name, { state: 'ONLINE', readOnly: false, snapshot: false, ...db });
  }

  /** The next `times` statements matching `match` fail with `error`. */
  fail(match: RegExp, error: Error, times = 1): this {
    this.failures.push({ match, error, times });
    return this;
  }

  /** The statements sent, as text, in order. */
  texts(): string[] {
    return this.sent.map((s) => s.text);
  }

  readonly connect: Connector = async (_db: DatabaseHandle, database: string): Promise<SqlSession> => {
    if (database !== 'master' && this.databases.get(database)?.state !== 'ONLINE') {
      throw Object.assign(new Error(`Cannot open database "${database}" requested by the login. The login failed.`), {
        name: 'ConnectionError',
        code: 'ELOGIN',
      });
    }
    let pending: Array<[string, string]> | undefined;
    return {
      run: async <T extends object = Row>(statement: SqlStatement): Promise<T[]> => {
        this.sent.push({ database, text: statement.text, ...(statement.params ? { params: statement.params } : {}) });
        const failure = this.failures.find((f) => f.times > 0 && f.match.test(statement.text));
        if (failure) {
          failure.times--;
          if (/BEGIN TRANSACTION/.test(statement.text)) pending = [];
          throw failure.error;
        }
        const answer = this.answer(database, statement, {
          begin: () => (pending = []),
          record: (name, checksum) => (pending ? pending.push([name, checksum]) : this.history.set(name, checksum)),
          commit: () => {
            for (const [name, checksum] of pending ?? []) this.history.set(name, checksum);
            pending = undefined;
          },
          rollback: () => (pending = undefined),
          depth: () => (pending ? 1 : 0),
        });
        return answer as T[];
      },
      close: async () => undefined,
    };
  };

  private answer(
    database: string,
    { text, params = {} }: SqlStatement,
    tx: { begin(): void; record(name: string, checksum: string): void; commit(): void; rollback(): void; depth(): number },
  ): Row[] {
    const create = (name: string, db: Partial<FakeDatabase> = {}) =>
      this.databases.set(name, { state: 'ONLINE', readOnly: false, snapshot: false, ...db });
    if (text.startsWith("SELECT CAST(SERVERPROPERTY('EngineEdition')")) return [this.profile];
    if (text.includes('FROM sys.databases WHERE name IN')) {
      return Object.values(params).flatMap((name) => {
        const db = this.databases.get(name);
        if (!db) return [];
        const row = { name, state: db.state, readOnly: db.readOnly ? 1 : 0, snapshot: db.snapshot ? 1 : 0 };
        // An asynchronous copy moves on one step per look.
        if (db.state === 'COPYING') db.state = this.copyStates.shift() ?? 'ONLINE';
        return [row];
      });
    }
    if (text.includes("sp_getapplock @Resource = N'cutover:")) {
      const result = this.lockHeld ? -1 : 0;
      return [{ result }];
    }
    if (text.startsWith('EXEC sp_releaseapplock') || text.startsWith('EXEC master.dbo.xp_delete_file')) return [];
    if (text.startsWith('ALTER DATABASE') && text.includes('SET SINGLE_USER')) {
      this.sessions.delete(quotedAfter(text, /^ALTER DATABASE /));
    }
    if (text.includes('DROP DATABASE')) {
      const name = quotedAfter(text, /DROP DATABASE /);
      if ((this.sessions.get(name) ?? []).length > 0)
        throw sqlError(3702, `Cannot drop database "${name}" because it is currently in use.`);
      this.databases.delete(name);
      return [];
    }
    if (text.includes(' MODIFY NAME = ')) {
      const from = quotedAfter(text, /^ALTER DATABASE /);
      const to = quotedAfter(text, / MODIFY NAME = /);
      const db = this.databases.get(from);
      if (!db) throw sqlError(911, `Database '${from}' does not exist.`);
      this.databases.delete(from);
      this.databases.set(to, db);
      return [];
    }
    if (text.startsWith('BACKUP DATABASE') || text.startsWith('RESTORE FILELISTONLY')) {
      if (text.startsWith('BACKUP')) return [];
      return [
        { LogicalName: 'shop', PhysicalName: '/var/opt/mssql/data/shop.mdf', Type: 'D', FileId: '1' },
        { LogicalName: "shop's log", PhysicalName: '/var/opt/mssql/data/shop_log.ldf', Type: 'L', FileId: '2' },
      ];
    }
    if (text.startsWith('RESTORE DATABASE') && text.includes('FROM DATABASE_SNAPSHOT')) {
      const name = quotedAfter(text, /^RESTORE DATABASE /);
      if ((this.sessions.get(name) ?? []).length > 0)
        throw sqlError(3101, 'Exclusive access could not be obtained because the database is in use.');
      return [];
    }
    if (text.startsWith('RESTORE DATABASE')) {
      create(quotedAfter(text, /^RESTORE DATABASE /));
      return [];
    }
    if (text.startsWith('CREATE DATABASE') && text.includes(' AS COPY OF ')) {
      create(quotedAfter(text, /^CREATE DATABASE /), { state: 'COPYING' });
      return [];
    }
    if (text.startsWith('CREATE DATABASE') && text.includes(' AS SNAPSHOT OF ')) {
      create(quotedAfter(text, /^CREATE DATABASE /), { snapshot: true, readOnly: true });
      return [];
    }
    if (text.includes('SET READ_ONLY')) {
      const db = this.databases.get(quotedAfter(text, /^ALTER DATABASE /));
      if (db) db.readOnly = true;
      return [];
    }
    if (text.includes('FROM sys.master_files')) return [{ logicalName: 'shop', fileId: 1, physicalName: 'D:\\SQL\\Data\\shop.mdf' }];
    if (text.includes('FROM sys.dm_exec_sessions')) return this.sessions.get(database) ?? [];
    if (text === 'SELECT 1 AS ok;') return [{ ok: 1 }];
    // Migrations.
    if (text.includes('CREATE TABLE dbo.cutover_migrations')) return [];
    if (text.startsWith('SELECT name, checksum FROM dbo.cutover_migrations'))
      return [...this.history].map(([name, checksum]) => ({ name, checksum }));
    if (text.startsWith('SELECT checksum FROM dbo.cutover_migrations')) {
      const checksum = this.history.get(params.name ?? '');
      return checksum === undefined ? [] : [{ checksum }];
    }
    if (text.startsWith('SET XACT_ABORT ON;\nBEGIN TRANSACTION;')) {
      tx.begin();
      return [];
    }
    if (text.startsWith('SELECT @@TRANCOUNT')) return [{ depth: tx.depth(), state: tx.depth() }];
    if (text.startsWith('INSERT INTO dbo.cutover_migrations')) {
      tx.record(params.name ?? '', params.checksum ?? '');
      return [];
    }
    if (text === 'COMMIT TRANSACTION;') {
      tx.commit();
      return [];
    }
    if (text === 'IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;') {
      tx.rollback();
      return [];
    }
    if (text.includes("IF OBJECT_ID(N'dbo.cutover_migrations', N'U') IS NOT NULL SELECT name"))
      return [...this.history.keys()].sort().map((name) => ({ name }));
    // Anything else is a migration's own batch: accepted; its own COMMIT or ROLLBACK ends Cutover's transaction.
    if (/^\s*(COMMIT|ROLLBACK)\b/im.test(text)) tx.commit();
    return [];
  }
}
