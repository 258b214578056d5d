/**
 * Removes credentials from text that leaves the host: an application's log tail and warm-up answers go into failure
 * messages, and from there into workflow history, Slack and the API. Besides the literal secrets the caller knows
 * (this environment's database passwords), anything that looks like a secret goes: an application logs its own
 * keys and tokens, and those of services Cutover knows nothing about.
 */

const MASK = '***';

/** scheme://user:password@ → scheme://user:***@ */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):([^\s@/]*)@/gi;

/** Names whose value is a secret: DB_PASSWORD=, "api_key": , client-secret: , aws_secret_access_key = , ?access_token= … */
const SECRET_WORDS = 'password|passwd|pwd|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|signature|sig';
const SECRET_NAME = String.raw`[a-z0-9_.-]*?(?:${SECRET_WORDS})(?:[_.-]?(?:key|value))?`;

/** name = value, name: value, "name": "value", with the value quoted or up to a separator. */
const SECRET_VALUE = String.raw`"[^"]*"|'[^']*'|\{[^}\s]*\}|[^\s;,&"'<>)\]}]+`;
const NAMED_SECRET = new RegExp(String.raw`(?<![a-z0-9])(${SECRET_NAME})(["']?\s*[:=]\s*)(${SECRET_VALUE})`, 'gi');

/** Authorization: Bearer x / Basic x / Token x, and a bare "Bearer x" anywhere. */
const AUTHORIZATION = /\b((?:proxy-)?authorization["']?\s*[:=]\s*["']?)(?:(bearer|basic|digest|token|negotiate)\s+)?[^\s"',;]+/gi;
const BEARER = /\b(bearer)\s+[a-z0-9._~+/-]{8,}=*/gi;

/** Secrets recognisable by their shape alone, wherever they appear. */
const SHAPED: RegExp[] = [
  /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|ABIA|ACCA)[A-Z0-9]{16}\b/g, // AWS access key ids
  /\bxox[abeoprs]-[A-Za-z0-9-]{10,}/g, // Slack tokens
  /\bxapp-\d-[A-Za-z0-9-]{10,}/g, // Slack app-level tokens
  /\bhttps:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/_-]+/g, // Slack incoming webhooks
  /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})/g, // GitHub tokens
  /\bglpat-[A-Za-z0-9_-]{20,}/g, // GitLab tokens
  /\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}/g, // Stripe keys
  /\bsk-[A-Za-z0-9_-]{20,}/g, // API keys of the sk- family
  /\bAIza[0-9A-Za-z_-]{35}/g, // Google API keys
  /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g, // JSON Web Tokens
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, // PEM private keys, even cut short
];

/** Scrubs credential patterns, plus any literal secret the caller knows about (at least 4 characters). */
export function scrubSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= 4) out = out.split(secret).join(MASK);
  }
  for (const shape of SHAPED) out = out.replace(shape, MASK);
  return out
    .replace(URL_CREDENTIALS, (_m, head: string) => `${head}:${MASK}@`)
    .replace(AUTHORIZATION, (_m, head: string, scheme: string | undefined) => `${head}${scheme ? `${scheme} ` : ''}${MASK}`)
    .replace(BEARER, (_m, word: string) => `${word} ${MASK}`)
    .replace(NAMED_SECRET, (match, name: string, separator: string, value: string) =>
      value === MASK || value.startsWith(`${MASK}@`) ? match : `${name}${separator}${MASK}`,
    );
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
