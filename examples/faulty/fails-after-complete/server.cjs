'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: the package runs with plain node, no build */
// Faulty package: warms up and verifies fine, then breaks under real traffic: after its first 20 GET /notes (say, once
// public traffic reaches it after Complete), every GET /notes answers 500. Only a bake after Complete catches it.
const http = require('node:http');
const { version } = require('./cutover-package.json');

const slot = process.env.CUTOVER_SLOT || 'local';
const HEALTHY_NOTES_REQUESTS = 20;
let notesRequests = 0;

const server = http.createServer((req, res) => {
  res.setHeader('X-App-Version', version);
  res.setHeader('X-Slot', slot);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  const path = (req.url || '/').split('?')[0];
  if (path === '/healthz') {
    res.writeHead(200).end(JSON.stringify({ ok: true, version }));
    return;
  }
  if (path === '/notes') {
    notesRequests++;
    if (notesRequests > HEALTHY_NOTES_REQUESTS) {
      res.writeHead(500).end(JSON.stringify({ error: 'internal', message: 'connection pool exhausted in NotesController' }));
      return;
    }
    res.writeHead(200).end(JSON.stringify({ version, slot, notes: [] }));
    return;
  }
  res.writeHead(200).end(JSON.stringify({ version, slot }));
});

server.listen(Number(process.env.PORT || 3000), process.env.HOST || '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
