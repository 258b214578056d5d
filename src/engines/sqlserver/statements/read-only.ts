import { quoteName } from '../identifiers.js';
import type { SqlStatement } from '../session.js';

/** Every write to the copy is then refused with error 3906, whatever the session's settings. */
export function setReadOnly(database: string): SqlStatement {
  return { text: `ALTER DATABASE ${quoteName(database)} SET READ_ONLY WITH ROLLBACK IMMEDIATE;` };
}
