import { createHash } from 'node:crypto';
import { unicodeLiteral } from '../identifiers.js';
import type { SqlStatement } from '../session.js';

/** Lock resource of one logical database's copy/restore-point work: a hash, so any name fits the 255-character limit. */
export function operationLockResource(original: string): string {
  return `cutover:${createHash('sha256').update(original, 'utf8').digest('hex').slice(0, 32)}`;
}

/** A session-owned application lock in master, taken without waiting: result < 0 means another operation holds it. */
export function acquireOperationLock(original: string): SqlStatement {
  return {
    text:
      'DECLARE @result int;\n' +
      `EXEC @result = sp_getapplock @Resource = ${unicodeLiteral(operationLockResource(original))}, ` +
      "@LockMode = N'Exclusive', @LockOwner = N'Session', @LockTimeout = 0;\n" +
      'SELECT @result AS result;',
  };
}

export function releaseOperationLock(original: string): SqlStatement {
  return { text: `EXEC sp_releaseapplock @Resource = ${unicodeLiteral(operationLockResource(original))}, @LockOwner = N'Session';` };
}
