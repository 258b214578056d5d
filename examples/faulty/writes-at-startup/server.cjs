'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: the package runs with plain node, no build */
// Faulty package: records its start in the database before serving, so it cannot start on a read-only clone (readonly-not-supported).
const http = require('node:http');
const { Client } = require('pg');
const { version } = require('./cutover-package.json');

const slot = process.env.CUTOVER_SLOT || 'local';

async function recordStart() {
  const client = new Client({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('INSERT INTO notes (body, author) VALUES ($1, $2)', [`slot ${slot} started`, `demo-app ${version}`]);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function serve() {
  const server = http.createServer((req, res) => {
    res.setHeader('X-App-Version', version);
    res.setHeader('X-Slot', slot);
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res
      .writeHead(req.url === '/healthz' ? 200 : 404)
      .end(JSON.stringify(req.url === '/healthz' ? { ok: true, version } : { error: 'not-found' }));
  });
  server.listen(Number(process.env.PORT || 3000), process.env.HOST || '127.0.0.1');
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

recordStart().then(serve, (error) => {
  console.error(`startup failed: could not record the start in the database: ${error.message} (SQLSTATE ${error.code})`);
  process.exit(1);
});
