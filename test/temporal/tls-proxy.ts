/**
 * nginx in front of a Temporal server, terminating TLS as a load balancer of a Temporal cluster does: one listener that
 * requires a client certificate signed by the test CA (mTLS), one that requires an API key (as Temporal Cloud does).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../../src/process/free-port.js';
import type { TestCertificates } from './certificates.js';

export interface TlsProxy {
  /** host:port that requires a client certificate. */
  mtlsAddress: string;
  /** host:port that requires `authorization: Bearer <apiKey>` (TLS without client certificates). */
  apiKeyAddress: string;
  stop(): Promise<void>;
}

export async function startTlsProxy(options: {
  dir: string;
  upstream: string;
  certificates: TestCertificates;
  apiKey: string;
}): Promise<TlsProxy> {
  const { dir, upstream, certificates, apiKey } = options;
  const [mtlsPort, apiKeyPort] = [await freePort(), await freePort()];
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, 'temp', sub), { recursive: true });
  const tls = `ssl_certificate ${certificates.server.cert};\n    ssl_certificate_key ${certificates.server.key};`;
  // Worker polls are long (up to 70 s) and payloads may exceed nginx's defaults: neither may be cut by the proxy.
  const grpc = `grpc_pass grpc://${upstream};\n      grpc_read_timeout 300s;\n      grpc_send_timeout 300s;`;
  const config = `daemon off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'nginx-error.log')} info;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'temp/body')};
  proxy_temp_path ${join(dir, 'temp/proxy')};
  fastcgi_temp_path ${join(dir, 'temp/fastcgi')};
  uwsgi_temp_path ${join(dir, 'temp/uwsgi')};
  scgi_temp_path ${join(dir, 'temp/scgi')};
  client_max_body_size 0;
  client_body_timeout 300s;
  keepalive_timeout 300s;
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:${mtlsPort} ssl http2;
    ${tls}
    ssl_client_certificate ${certificates.ca};
    ssl_verify_client on;
    location / {
      ${grpc}
    }
  }
  server {
    listen 127.0.0.1:${apiKeyPort} ssl http2;
    ${tls}
    location / {
      # Refused as Temporal Cloud refuses a wrong key: gRPC status 16 (UNAUTHENTICATED).
      if ($http_authorization != "Bearer ${apiKey}") {
        add_header grpc-status 16 always;
        add_header grpc-message "Request unauthorized" always;
        add_header content-type application/grpc always;
        return 200;
      }
      ${grpc}
    }
  }
}
`;
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, config);
  const child: ChildProcess = spawn('nginx', ['-p', dir, '-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (const port of [mtlsPort, apiKeyPort]) {
    await waitForPort(port, 15_000, () => (child.exitCode !== null ? `nginx exited: ${stderr}${readLog(dir)}` : undefined));
  }
  return {
    mtlsAddress: `127.0.0.1:${mtlsPort}`,
    apiKeyAddress: `127.0.0.1:${apiKeyPort}`,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function readLog(dir: string): string {
  try {
    return readFileSync(join(dir, 'nginx-error.log'), 'utf8');
  } catch {
    return '';
  }
}

async function waitForPort(port: number, timeoutMs: number, failed: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const problem = failed();
    if (problem) throw new Error(problem);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
