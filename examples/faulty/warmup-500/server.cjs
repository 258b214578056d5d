'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: the package runs with plain node, no build */
// Faulty package: starts, but its warmup path always answers 500, so the warmup never passes (warmup-failed).
const http = require('node:http');
const { version } = require('./cutover-package.json');

const slot = process.env.CUTOVER_SLOT || 'local';

const server = http.createServer((req, res) => {
  res.setHeader('X-App-Version', version);
  res.setHeader('X-Slot', slot);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  if (req.url === '/healthz') {
    res.writeHead(500).end(JSON.stringify({ ok: false, version, error: 'cache warmup crashed: NullReferenceError in HomeController' }));
    return;
  }
  res.writeHead(200).end(JSON.stringify({ version, slot }));
});

server.listen(Number(process.env.PORT || 3000), process.env.HOST || '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
