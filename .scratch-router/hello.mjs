import http from 'node:http';
const [listen] = process.argv.slice(2).map(Number);
http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('hello a\n'); }).listen(listen, '127.0.0.1');
process.on('SIGINT', () => process.exit(0));
