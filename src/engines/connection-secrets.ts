import { connectionStringsOf, type DatabaseHandle } from './engine.js';

/** Every spelling of a database's secrets that could end up in a message, to redact them (the same on every engine). */
export function secretsOf(db: DatabaseHandle): string[] {
  const secrets: string[] = [];
  for (const connectionString of connectionStringsOf(db)) {
    secrets.push(connectionString);
    try {
      const url = new URL(connectionString);
      if (url.password) secrets.push(url.password, safeDecode(url.password));
    } catch {
      // An unparsable string is redacted as a whole.
    }
  }
  return secrets.filter((s) => s.length > 0);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
