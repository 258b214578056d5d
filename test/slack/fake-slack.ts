/**
 * A local HTTP server standing in for Slack: its Web API (`/api/<method>`) records what the bot sends and
 * answers like Slack; `/hooks/...` stands in for response_url.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { freePort } from '../../src/process/free-port.js';

export interface SlackCall {
  method: string;
  authorization: string | undefined;
  contentType: string | undefined;
  /** Form fields or JSON body; `blocks` and `attachments` decoded from their JSON strings. */
  body: Record<string, any>;
  /** What the stand-in answered: the message's ts (absent when it answered an error). */
  response: { ts?: string };
}

export interface FakeSlack {
  apiUrl: string;
  /** A response_url the bot may post replies to. */
  hookUrl(name: string): string;
  calls: SlackCall[];
  hooks: Array<{ path: string; body: any }>;
  /** The next API calls answer `{ ok: false, error }`. */
  failNext(error: string, times?: number): void;
  /** Waits for a recorded API call that matches. */
  waitFor(predicate: (call: SlackCall) => boolean, timeoutMs?: number): Promise<SlackCall>;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function decode(raw: string, contentType: string | undefined): Record<string, any> {
  if (contentType?.includes('application/json')) return JSON.parse(raw || '{}');
  const body: Record<string, any> = Object.fromEntries(new URLSearchParams(raw));
  for (const key of ['blocks', 'attachments']) if (typeof body[key] === 'string') body[key] = JSON.parse(body[key]);
  return body;
}

export async function startFakeSlack(): Promise<FakeSlack> {
  const port = await freePort();
  const calls: SlackCall[] = [];
  const hooks: FakeSlack['hooks'] = [];
  const failures: string[] = [];
  let ts = 1_700_000_000;

  const server = createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
      const contentType = req.headers['content-type'];
      const url = new URL(req.url ?? '/', 'http://localhost');
      res.setHeader('content-type', 'application/json');
      if (url.pathname.startsWith('/hooks/')) {
        hooks.push({ path: url.pathname, body: decode(raw, contentType) });
        res.end(JSON.stringify({ ok: true }));
        return;
      }
      const method = url.pathname.replace(/^\/api\//, '');
      const body = decode(raw, contentType);
      const call: SlackCall = { method, authorization: req.headers.authorization, contentType, body, response: {} };
      calls.push(call);
      const error = failures.shift();
      if (error) {
        res.end(JSON.stringify({ ok: false, error }));
        return;
      }
      const answerTs = method === 'chat.update' ? body.ts : `${ts++}.000100`;
      call.response.ts = answerTs;
      res.end(JSON.stringify({ ok: true, channel: body.channel, ts: answerTs, message: { text: body.text } }));
    })();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));

  return {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    hookUrl: (name) => `http://127.0.0.1:${port}/hooks/${name}`,
    calls,
    hooks,
    failNext(error, times = 1) {
      for (let i = 0; i < times; i++) failures.push(error);
    },
    async waitFor(predicate, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const found = calls.find(predicate);
        if (found) return found;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no matching Slack call in ${timeoutMs} ms; calls: ${JSON.stringify(calls.map((c) => c.method))}`);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
