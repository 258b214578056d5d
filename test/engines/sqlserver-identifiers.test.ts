import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { EngineError } from '../../src/engines/engine.js';
import { MAX_SYSNAME_LENGTH, quoteName, unicodeLiteral } from '../../src/engines/sqlserver/identifiers.js';
import { physicalNames } from '../../src/engines/sqlserver/names.js';

/** Reads one [bracketed] identifier back the way SQL Server's parser does; what follows it is returned too. */
function parseBracketed(text: string): { name: string; rest: string } {
  expect(text[0]).toBe('[');
  let name = '';
  for (let i = 1; i < text.length; i++) {
    if (text[i] === ']') {
      if (text[i + 1] === ']') {
        name += ']';
        i++;
        continue;
      }
      return { name, rest: text.slice(i + 1) };
    }
    name += text[i];
  }
  throw new Error('unterminated identifier');
}

/** Reads one N'…' literal back the way SQL Server's parser does. */
function parseLiteral(text: string): { value: string; rest: string } {
  expect(text.slice(0, 2)).toBe("N'");
  let value = '';
  for (let i = 2; i < text.length; i++) {
    if (text[i] === "'") {
      if (text[i + 1] === "'") {
        value += "'";
        i++;
        continue;
      }
      return { value, rest: text.slice(i + 1) };
    }
    value += text[i];
  }
  throw new Error('unterminated literal');
}

describe('identifier quoting (QUOTENAME semantics)', () => {
  test('brackets around the name, every ] doubled, nothing else touched', () => {
    expect(quoteName('shop')).toBe('[shop]');
    expect(quoteName('a]b')).toBe('[a]]b]');
    expect(quoteName('[x]')).toBe('[[x]]]');
    expect(quoteName('it\'s "odd" Ünï')).toBe('[it\'s "odd" Ünï]');
  });

  test.each([
    ['closing the bracket early', 'shop]; DROP DATABASE master; --'],
    ['a doubled bracket that would close twice', 'shop]]; DROP TABLE users; --'],
    ['a batch separator on its own line', 'shop]\nGO\nDROP DATABASE master\nGO\n--'],
    ['a comment that swallows the rest', 'shop] /* '],
    ['a string break-out', "shop'; EXEC xp_cmdshell 'whoami'; --"],
    ['only brackets', ']]]]'],
  ])('an injection attempt (%s) stays one identifier', (_what, hostile) => {
    const quoted = quoteName(hostile);
    const parsed = parseBracketed(quoted);
    expect(parsed).toEqual({ name: hostile, rest: '' });
    // Inside the brackets every ] is doubled: no single ] can end the identifier early.
    expect(quoted.slice(1, -1).replace(/]]/g, '')).not.toContain(']');
  });

  test('every name up to 128 characters round-trips as exactly one identifier', () => {
    fc.assert(
      fc.property(
        fc
          .string({ minLength: 1, maxLength: MAX_SYSNAME_LENGTH, unit: 'binary' })
          .filter((s) => s.length <= MAX_SYSNAME_LENGTH && !s.includes('\u0000')),
        (name) => {
          expect(parseBracketed(quoteName(name))).toEqual({ name, rest: '' });
        },
      ),
      { numRuns: 500 },
    );
  });

  test('empty, too long (129 characters) and NUL names are refused as invalid input', () => {
    expect(quoteName('x'.repeat(128))).toHaveLength(130);
    for (const bad of ['', 'x'.repeat(129), 'a\u0000b']) {
      expect(() => quoteName(bad)).toThrow(EngineError);
      try {
        quoteName(bad);
      } catch (error) {
        expect(error).toMatchObject({ failureClass: 'invalid-input' });
      }
    }
  });
});

describe("string literals (N'…', ' doubled)", () => {
  test('quotes are doubled, nothing else is touched', () => {
    expect(unicodeLiteral('/var/opt/mssql/backup/x.bak')).toBe("N'/var/opt/mssql/backup/x.bak'");
    expect(unicodeLiteral("O'Brien")).toBe("N'O''Brien'");
    expect(unicodeLiteral("'; SHUTDOWN WITH NOWAIT; --")).toBe("N'''; SHUTDOWN WITH NOWAIT; --'");
    expect(unicodeLiteral('C:\\Backup\\')).toBe("N'C:\\Backup\\'");
  });

  test('every value round-trips as exactly one literal', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 300, unit: 'binary' }).filter((s) => !s.includes('\u0000')),
        (value) => {
          expect(parseLiteral(unicodeLiteral(value))).toEqual({ value, rest: '' });
        },
      ),
      { numRuns: 500 },
    );
  });

  test('a NUL is refused', () => {
    expect(() => unicodeLiteral('a\u0000b')).toThrow(/NUL/);
  });
});

describe('physical names', () => {
  test('temporary, restore point and their work-in-progress names', () => {
    expect(physicalNames('shop')).toEqual({
      original: 'shop',
      temporary: 'shop__cutover_tmp',
      temporaryPartial: 'shop__cutover_tmp_partial',
      restorePoint: 'shop__cutover_rp',
      restorePointPartial: 'shop__cutover_rp_partial',
    });
  });

  test('system databases, control characters and names too long for the suffixes are refused', () => {
    expect(() => physicalNames('x'.repeat(107))).not.toThrow();
    const cases: Array<[string, RegExp]> = [
      ['master', /system database "master"/],
      ['TempDB', /system database/],
      ['msdb', /system database/],
      ['', /names no database/],
      ['a\nb', /control character/],
      ['x'.repeat(108), /108 characters long; Cutover needs at most 107/],
    ];
    for (const [name, message] of cases) expect(() => physicalNames(name), name).toThrow(message);
  });
});
