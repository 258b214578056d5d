import http from 'node:http';
import { Pool } from '/tmp/undici-try/node_modules/undici/index.js';
const [listen, backend] = process.argv.slice(2).map(Number);
const pool = new Pool(`http://127.0.0.1:${backend}`, { connections: 256, pipelining: 1, keepAliveTimeout: 4000 });
http.createServer((req, res) => {
  const bodyless = req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined;
  pool.dispatch({ method: req.method, path: req.url, headers: req.rawHeaders, body: bodyless ? null : req }, {
    onConnect() {},
    onHeaders(status, raw, resume, text) {
      const h = [];
      for (let i = 0; i < raw.length; i += 2) h.push(raw[i].toString('latin1'), raw[i + 1].toString('latin1'));
      res.writeHead(status, text, h);
      res.on('drain', resume);
      return true;
    },
    onData(chunk) { return res.write(chunk); },
    onComplete() { res.end(); },
    onError(err) { if (res.headersSent) res.destroy(); else { res.statusCode = 502; res.end(); } },
  });
}).listen(listen, '127.0.0.1');
process.on('SIGINT', () => process.exit(0));
