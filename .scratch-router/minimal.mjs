import http from 'node:http';
const [listen, backend] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 256, scheduling: 'lifo' });
http.createServer((req, res) => {
  const up = http.request({ host: '127.0.0.1', port: backend, method: req.method, path: req.url, headers: req.headers, agent }, (r) => {
    res.writeHead(r.statusCode, r.headers);
    r.pipe(res);
  });
  up.on('error', () => res.destroy());
  req.pipe(up);
}).listen(listen, '127.0.0.1');
process.on('SIGINT', () => process.exit(0));
