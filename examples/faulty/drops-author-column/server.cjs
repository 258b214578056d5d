'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: the package runs with plain node, no build */
/* global Buffer, clearTimeout */
// Cutover demo site, version 1: visitors leave notes. It keeps answering, read-only, from a clone during a deployment.
const http = require('node:http');
const database = require('./database.cjs');
const { version } = require('./cutover-package.json');

const port = Number(process.env.PORT || 3000);
// The host agent sets HOST: its host's address, where the data plane reaches the slot.
const host = process.env.HOST || '127.0.0.1';
const slot = process.env.CUTOVER_SLOT || 'local';
// Only a hint for the page: on a read-only clone the database itself refuses every write.
const readOnlyHint = process.env.CUTOVER_READONLY === '1';
const MAX_BODY_LENGTH = 1000;
const MAX_REQUEST_BYTES = 16 * 1024;
const SHUTDOWN_GRACE_MS = 10_000;
const READ_ONLY_MESSAGE = 'The site is read-only during a deployment; your change was not saved. Try again in a few minutes.';

function log(message) {
  console.log(`[demo-app ${version} ${slot}] ${message}`);
}

if (!process.env.DATABASE_URL) {
  console.error('DATABASE_URL is not set: the demo site needs a PostgreSQL or SQL Server database');
  process.exit(1);
}

const db = database.connect(process.env.DATABASE_URL, log);
// The few statements the site sends, in each engine's dialect.
const SQL = {
  postgres: {
    latestNotes: 'SELECT id, body, created_at FROM notes ORDER BY id DESC LIMIT 50',
    insertNote: 'INSERT INTO notes (body) VALUES ($1) RETURNING id',
  },
  sqlserver: {
    latestNotes: 'SELECT TOP (50) id, body, created_at FROM notes ORDER BY id DESC',
    insertNote: 'INSERT INTO notes (body) OUTPUT INSERTED.id VALUES (@p1)',
  },
}[db.engine];

class HttpError extends Error {
  constructor(status, body, headers = {}) {
    super(body.message);
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

let shuttingDown = false;

function send(res, status, body, headers = {}) {
  const json = typeof body !== 'string';
  const payload = json ? JSON.stringify(body) : body;
  res.writeHead(status, {
    'Content-Type': json ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(payload),
    'Cache-Control': 'no-store',
    // While stopping, no connection is kept alive, so the server can close once in-flight requests are done.
    ...(shuttingDown ? { Connection: 'close' } : {}),
    ...headers,
  });
  res.end(payload);
}

function invalid(field, problem) {
  return new HttpError(400, { error: 'invalid-input', field, message: `${field}: ${problem}` });
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) {
        // Stop reading but answer: the client learns why instead of seeing a reset connection.
        req.removeAllListeners('data');
        req.resume();
        reject(
          new HttpError(
            413,
            { error: 'too-large', message: `request body is larger than ${MAX_REQUEST_BYTES} bytes` },
            { Connection: 'close' },
          ),
        );
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      try {
        const value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
        resolve(value);
      } catch {
        reject(new HttpError(400, { error: 'invalid-input', message: 'request body must be a JSON object like {"body": "..."}' }));
      }
    });
  });
}

function noteBody(input) {
  if (input.body === undefined || input.body === null) throw invalid('body', 'is required');
  if (typeof input.body !== 'string') throw invalid('body', 'must be a string');
  const body = input.body.trim();
  if (body === '') throw invalid('body', 'must not be empty');
  if (body.length > MAX_BODY_LENGTH) throw invalid('body', `must be at most ${MAX_BODY_LENGTH} characters`);
  return body;
}

async function latestNotes() {
  const rows = await db.query(SQL.latestNotes);
  return rows.map((row) => ({ id: row.id, body: row.body, createdAt: row.created_at }));
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

function page(notes) {
  const items = notes
    .map((note) => `<li>${escapeHtml(note.body)} <small>${escapeHtml(new Date(note.createdAt).toISOString())}</small></li>`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Cutover demo ${escapeHtml(version)}</title></head>
<body>
<h1>Notes</h1>
<p>Version ${escapeHtml(version)}, slot ${escapeHtml(slot)}</p>
${readOnlyHint ? '<p role="alert"><strong>A deployment is in progress: the site is read-only for a few minutes.</strong></p>' : ''}
<form id="note-form">
<textarea name="body" maxlength="${MAX_BODY_LENGTH}" required></textarea>
<button type="submit">Add note</button>
</form>
<p id="message" role="status"></p>
<ul>
${items || '<li>No notes yet.</li>'}
</ul>
<script>
document.getElementById('note-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = event.target.elements.namedItem('body').value;
  const response = await fetch('/notes', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ body }) });
  const result = await response.json().catch(() => ({}));
  if (response.ok) location.reload();
  else document.getElementById('message').textContent = result.message || 'The note could not be saved.';
});
</script>
</body>
</html>
`;
}

async function route(req, res) {
  const { pathname } = new URL(req.url || '/', 'http://localhost');
  if (pathname === '/healthz' && req.method === 'GET') {
    // Read only: the warmup of a read-only clone must succeed.
    try {
      await db.query('SELECT 1');
    } catch (error) {
      send(res, 503, { ok: false, version, error: `database not reachable: ${error.message}` });
      return;
    }
    send(res, 200, { ok: true, version });
    return;
  }
  if (pathname === '/' && req.method === 'GET') {
    send(res, 200, page(await latestNotes()));
    return;
  }
  if (pathname === '/notes' && req.method === 'GET') {
    send(res, 200, { version, slot, notes: await latestNotes() });
    return;
  }
  if (pathname === '/notes' && req.method === 'POST') {
    const body = noteBody(await readJson(req));
    const rows = await db.query(SQL.insertNote, [body]);
    send(res, 201, { id: rows[0].id });
    return;
  }
  if (pathname === '/notes' || pathname === '/healthz' || pathname === '/') {
    send(
      res,
      405,
      { error: 'method-not-allowed', message: `${req.method} is not allowed on ${pathname}` },
      { Allow: pathname === '/notes' ? 'GET, POST' : 'GET' },
    );
    return;
  }
  send(res, 404, { error: 'not-found', message: `nothing at ${pathname}` });
}

function sendError(res, error) {
  if (error instanceof HttpError) {
    send(res, error.status, error.body, error.headers);
  } else if (db.isReadOnly(error)) {
    // We run on a read-only clone; refuse clearly instead of losing the note.
    send(res, 503, { error: 'read-only', message: READ_ONLY_MESSAGE }, { 'Retry-After': '60' });
  } else if (db.isUnavailable(error)) {
    log(`database unavailable: ${error.message}`);
    send(
      res,
      503,
      { error: 'database-unavailable', message: 'The database is not reachable right now. Try again shortly.' },
      { 'Retry-After': '5' },
    );
  } else {
    log(`request failed: ${(error && error.stack) || error}`);
    send(res, 500, { error: 'internal', message: 'Something went wrong on our side.' });
  }
}

const server = http.createServer((req, res) => {
  res.setHeader('X-App-Version', version);
  res.setHeader('X-Slot', slot);
  route(req, res).catch((error) => {
    if (res.headersSent) res.destroy();
    else sendError(res, error);
  });
});

server.on('error', (error) => {
  console.error(`cannot listen on ${host}:${port}: ${error.message}`);
  process.exit(1);
});

server.listen(port, host, () => log(`listening on http://${host}:${port}${readOnlyHint ? ' (read-only clone)' : ''}`));

function shutdown(signal) {
  if (shuttingDown) return;
  shuttingDown = true;
  log(`${signal}: no new connections, finishing in-flight requests`);
  const force = setTimeout(() => {
    log(`still busy after ${SHUTDOWN_GRACE_MS} ms: closing the remaining connections`);
    server.closeAllConnections();
  }, SHUTDOWN_GRACE_MS);
  force.unref();
  server.close(() => {
    clearTimeout(force);
    db.end().then(
      () => {
        log('stopped');
        process.exit(0);
      },
      (error) => {
        log(`closing the database pool failed: ${error.message}`);
        process.exit(0);
      },
    );
  });
  server.closeIdleConnections();
}

process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
