import pg from 'pg';

/** A safely quoted identifier: every database, schema and table name goes through here. */
export const ident = (name: string): string => pg.escapeIdentifier(name);

/** A safely quoted string literal, for the few statements (CREATE DATABASE options) that take no parameters. */
export const literal = (value: string): string => pg.escapeLiteral(value);

/** A libpq conninfo naming one database, for pg_dump/pg_restore: any name works, no URL decoding involved. */
export const conninfoFor = (database: string): string => `dbname='${database.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
