import type { IncomingMessage, ServerResponse } from 'node:http';

/** Responses the router gives itself, when no slot answers: HTML for people, JSON for API clients. */

export const retryAfterSeconds = 30;

export function answerMaintenance(request: IncomingMessage, response: ServerResponse, site: string, message: string | undefined) {
  answer(request, response, 503, {
    error: 'maintenance',
    title: `${site} is being upgraded`,
    detail: message ?? 'It will be back in a moment. Please try again shortly.',
    site,
  });
}

export function answerNoVersion(request: IncomingMessage, response: ServerResponse, site: string, what: 'live' | 'preview') {
  answer(request, response, 503, {
    error: what === 'live' ? 'no-live-version' : 'no-preview',
    title: what === 'live' ? `no live version of ${site} yet` : `no preview of ${site} right now`,
    detail: what === 'live' ? 'No version of this site has been deployed yet.' : 'No new version is awaiting verification.',
    site,
  });
}

export function answerBadGateway(request: IncomingMessage, response: ServerResponse, site: string, detail: string) {
  answer(request, response, 502, { error: 'bad-gateway', title: `${site} is unreachable`, detail, site });
}

/** A request the router cannot forward (its target is not a path). */
export function answerBadRequest(request: IncomingMessage, response: ServerResponse, site: string, detail: string) {
  answer(request, response, 400, { error: 'bad-request', title: `${site} cannot take this request`, detail, site });
}

export function answerGatewayTimeout(request: IncomingMessage, response: ServerResponse, site: string, detail: string) {
  answer(request, response, 504, { error: 'gateway-timeout', title: `${site} did not answer in time`, detail, site });
}

interface Answer {
  error: string;
  title: string;
  detail: string;
  site: string;
}

function answer(request: IncomingMessage, response: ServerResponse, status: 400 | 502 | 503 | 504, body: Answer) {
  const json = wantsJson(request.headers.accept);
  const payload = json ? JSON.stringify({ ...body, status }) : page(body);
  response.writeHead(status, {
    'Content-Type': json ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(payload),
    'Cache-Control': 'no-store',
    ...(status === 503 ? { 'Retry-After': String(retryAfterSeconds) } : {}),
  });
  response.end(request.method === 'HEAD' ? undefined : payload);
}

/** JSON when the client asks for it and does not also accept HTML (browsers send text/html). */
export function wantsJson(accept: string | undefined): boolean {
  if (!accept) return false;
  return /application\/([\w.-]+\+)?json/i.test(accept) && !/text\/html/i.test(accept);
}

function page({ title, detail }: Answer): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:15vh auto;padding:0 1rem;color:#222}h1{font-size:1.5rem}</style></head>
<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(detail)}</p></body>
</html>
`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
