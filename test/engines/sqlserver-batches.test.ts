import { describe, expect, test } from 'vitest';
import { BatchSyntaxError, splitBatches, type Batch } from '../../src/engines/sqlserver/batches.js';

const texts = (batches: Batch[]) => batches.map((b) => b.text.trim());

describe('GO splitter: tricky scripts', () => {
  test('1. plain GO lines in any case, with blanks around, and a final batch without GO', () => {
    const script = 'CREATE TABLE a (id int);\nGO\n  go  \nCREATE VIEW v AS SELECT id FROM a;\n\tGo\nINSERT INTO a VALUES (1);';
    expect(splitBatches(script)).toEqual([
      { text: 'CREATE TABLE a (id int);\n', startLine: 1, repeat: 1 },
      { text: 'CREATE VIEW v AS SELECT id FROM a;\n', startLine: 4, repeat: 1 },
      { text: 'INSERT INTO a VALUES (1);', startLine: 6, repeat: 1 },
    ]);
  });

  test("2. GO inside a string literal, N'…' and with doubled quotes, is text", () => {
    const script = "INSERT INTO notes (body) VALUES (N'first line\nGO\nit''s still the same ''string''\ngo');\nGO\nSELECT 1;";
    expect(texts(splitBatches(script))).toEqual([
      "INSERT INTO notes (body) VALUES (N'first line\nGO\nit''s still the same ''string''\ngo');",
      'SELECT 1;',
    ]);
  });

  test('3. GO inside a bracketed identifier, with ]] escapes, is text', () => {
    const script = 'CREATE TABLE [odd]]\nGO\nname] ([x\nGO\ny] int);\nGO\nSELECT 2;';
    expect(texts(splitBatches(script))).toEqual(['CREATE TABLE [odd]]\nGO\nname] ([x\nGO\ny] int);', 'SELECT 2;']);
  });

  test('4. GO inside a double-quoted identifier, with "" escapes, is text', () => {
    const script = 'CREATE TABLE "a""\nGO\n" (id int);\nGO\nSELECT 3;';
    expect(texts(splitBatches(script))).toEqual(['CREATE TABLE "a""\nGO\n" (id int);', 'SELECT 3;']);
  });

  test('5. GO inside block comments, nested ones included, is text', () => {
    const script = '/* outer\n/* inner\nGO\n*/\nGO\nstill the outer comment */\nSELECT 4;\nGO\nSELECT 5;';
    expect(texts(splitBatches(script))).toEqual(['/* outer\n/* inner\nGO\n*/\nGO\nstill the outer comment */\nSELECT 4;', 'SELECT 5;']);
  });

  test('6. quotes and brackets inside comments do not open strings: the GO after them still splits', () => {
    const script = "-- it's a comment with [ and \" and '\nSELECT 6; /* don't [ */\nGO\nSELECT 7; -- '\nGO\nSELECT 8;";
    expect(texts(splitBatches(script))).toEqual([
      "-- it's a comment with [ and \" and '\nSELECT 6; /* don't [ */",
      "SELECT 7; -- '",
      'SELECT 8;',
    ]);
  });

  test('7. comment markers inside strings and identifiers are text: the GO after them still splits', () => {
    const script = "SELECT '--not a comment', '/* nor this', [col -- name], \"x /* y\";\nGO\nSELECT 9;";
    expect(texts(splitBatches(script))).toEqual(["SELECT '--not a comment', '/* nor this', [col -- name], \"x /* y\";", 'SELECT 9;']);
  });

  test('8. GO n repeats the batch; a trailing comment on the GO line is allowed', () => {
    expect(splitBatches('INSERT INTO t DEFAULT VALUES;\nGO 3 -- three rows\nSELECT 1;\nGO -- done')).toEqual([
      { text: 'INSERT INTO t DEFAULT VALUES;\n', startLine: 1, repeat: 3 },
      { text: 'SELECT 1;\n', startLine: 3, repeat: 1 },
    ]);
  });

  test('9. GO that is not alone on its line is text: GOTO, a column named go, GO; and SELECT … GO', () => {
    const script = 'GOTO done;\nSELECT 1 AS go\nGO;\nSELECT 2 GO\ngo_table\n  GOES\ndone:\nGO';
    expect(texts(splitBatches(script))).toEqual(['GOTO done;\nSELECT 1 AS go\nGO;\nSELECT 2 GO\ngo_table\n  GOES\ndone:']);
  });

  test('10. CRLF line endings, a byte order mark, and line numbers that count from the top of the file', () => {
    const script = '\uFEFFCREATE TABLE a (id int);\r\nGO\r\n\r\nCREATE TABLE b (id int);\r\nGO\r\nSELECT 1;\r\n';
    const batches = splitBatches(script);
    expect(batches.map((b) => b.startLine)).toEqual([1, 3, 6]);
    expect(texts(batches)).toEqual(['CREATE TABLE a (id int);', 'CREATE TABLE b (id int);', 'SELECT 1;']);
  });

  test('11. batches of only whitespace and comments are left out; a script of only GO lines has no batches', () => {
    expect(splitBatches('GO\n\nGO\n-- nothing here\n/* nor\nhere */\nGO\n')).toEqual([]);
    expect(splitBatches('')).toEqual([]);
    expect(texts(splitBatches('-- header\nGO\nSELECT 1;\nGO\n\n'))).toEqual(['SELECT 1;']);
  });

  test('12. an unterminated string swallows the rest of the script: the server reports it, nothing is split inside it', () => {
    const script = "SELECT 'oops;\nGO\nDROP TABLE users;\nGO";
    expect(splitBatches(script)).toEqual([{ text: "SELECT 'oops;\nGO\nDROP TABLE users;\nGO", startLine: 1, repeat: 1 }]);
  });

  test('13. a procedure body with strings, comments and dynamic SQL that mention GO stays one batch', () => {
    const script = [
      'CREATE OR ALTER PROCEDURE dbo.rebuild AS',
      'BEGIN',
      '  -- GO here is a comment',
      "  DECLARE @sql nvarchar(max) = N'SELECT 1;",
      'GO',
      "SELECT ''two'';';",
      '  /* GO',
      '  */',
      '  EXEC sp_executesql @sql;',
      'END',
      'GO',
      'EXEC dbo.rebuild;',
    ].join('\n');
    const batches = splitBatches(script);
    expect(batches).toHaveLength(2);
    expect(batches[0]?.text).toContain('EXEC sp_executesql @sql;\nEND');
    expect(batches[1]).toEqual({ text: 'EXEC dbo.rebuild;', startLine: 12, repeat: 1 });
  });

  test('14. GO 0 is refused with its line', () => {
    expect(() => splitBatches('SELECT 1;\nGO 0')).toThrow(BatchSyntaxError);
    expect(() => splitBatches('SELECT 1;\nGO 0')).toThrow(/line 2: GO 0 must repeat the batch at least once/);
  });
});
