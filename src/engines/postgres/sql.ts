import pg from 'pg';

/** A safely quoted identifier: every database, schema and table name goes through here. */
export const ident = (name: string): string => pg.escapeIdentifier(name);

/** A safely quoted string literal, for the few statements (CREATE DATABASE options) that take no parameters. */
export const literal = (value: string): string => pg.escapeLiteral(value);

/** A libpq conninfo value, quoted: any text works, no URL decoding involved. */
const conninfoValue = (value: string): string => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** A libpq conninfo of these keywords, e.g. host='…' dbname='…'. */
export const conninfo = (settings: Record<string, string>): string =>
  Object.entries(settings)
    .map(([keyword, value]) => `${keyword}=${conninfoValue(value)}`)
    .join(' ');

/** A libpq conninfo naming one database, for pg_dump/pg_restore. */
export const conninfoFor = (database: string): string => conninfo({ dbname: database });
