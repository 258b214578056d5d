import { EngineError } from '../engine.js';
import { namesFor, type PhysicalNames } from '../physical-names.js';

export type { PhysicalNames };

/** PostgreSQL truncates identifiers silently beyond this many bytes: two names could then collide. */
export const MAX_IDENTIFIER_BYTES = 63;

/** Databases an operator's URL must never point at: admin work happens in them or they are templates. */
const RESERVED = new Set(['postgres', 'template0', 'template1']);

/** node-postgres decodes the URL path with decodeURI, which leaves these escaped: such a name would mean two different databases. */
// eslint-disable-next-line no-control-regex
const URL_AMBIGUOUS = /[;/?:@&=+$,#\u0000-\u001f\u007f]/;

export function physicalNames(original: string): PhysicalNames {
  if (original === '') throw new EngineError('invalid-input', 'the connection string names no database (its URL path is empty)');
  if (RESERVED.has(original)) {
    throw new EngineError(
      'invalid-input',
      `the connection string names the system database "${original}": point it at the application's own database`,
    );
  }
  if (URL_AMBIGUOUS.test(original)) {
    throw new EngineError(
      'invalid-input',
      `database name "${original}" contains a character (one of ; / ? : @ & = + $ , # or a control character) ` +
        'that PostgreSQL clients do not decode the same way from a URL',
    );
  }
  const names = namesFor(original);
  const longest = names.temporaryPartial;
  if (Buffer.byteLength(longest, 'utf8') > MAX_IDENTIFIER_BYTES) {
    const room = MAX_IDENTIFIER_BYTES - Buffer.byteLength(longest.slice(original.length), 'utf8');
    throw new EngineError(
      'invalid-input',
      `database name "${original}" is ${Buffer.byteLength(original, 'utf8')} bytes long; Cutover needs at most ${room} ` +
        `so that "${longest.slice(original.length)}" still fits PostgreSQL's ${MAX_IDENTIFIER_BYTES}-byte limit`,
    );
  }
  return names;
}
