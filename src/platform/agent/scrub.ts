/** Removes credentials from text that leaves the host (log tails, failure messages go into workflow history). */

// scheme://user:password@ → scheme://user:***@
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):([^\s@/]*)@/gi;
// Password=...; in ADO/ODBC connection strings (SQL Server)
const KEYWORD_PASSWORD = /\b(password|pwd)(\s*=\s*)("[^"]*"|'[^']*'|[^;\s]*)/gi;
// ?password=... in URL query strings
const QUERY_PASSWORD = /([?&](?:password|sslpassword)=)[^&\s]*/gi;

/** Scrubs credential patterns, plus any literal secret the caller knows about (at least 4 characters). */
export function scrubSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('***');
  }
  return out
    .replace(URL_CREDENTIALS, (_m, head: string) => `${head}:***@`)
    .replace(KEYWORD_PASSWORD, (_m, key: string, eq: string) => `${key}${eq}***`)
    .replace(QUERY_PASSWORD, '$1***');
}

/** The passwords inside connection strings, to scrub them wherever they appear. */
export function secretsOf(connectionStrings: readonly string[]): string[] {
  const secrets: string[] = [];
  for (const cs of connectionStrings) {
    try {
      const url = new URL(cs);
      if (url.password) secrets.push(decodeURIComponent(url.password), url.password);
    } catch {
      for (const m of cs.matchAll(/\b(?:password|pwd)\s*=\s*("[^"]*"|'[^']*'|[^;\s]*)/gi)) {
        if (m[1]) secrets.push(m[1].replace(/^["']|["']$/g, ''));
      }
    }
  }
  return [...new Set(secrets)];
}
