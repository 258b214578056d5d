/** The CLI's side of the HTTP API: bearer token, one error per failure, with the exit code it deserves. */
import { CliError, exitCodeForStatus, exitCodes } from './exit-codes.js';

export interface ApiClientOptions {
  baseUrl: string;
  token?: string;
}

export type ApiClient = ReturnType<typeof createApiClient>;

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error as Error)?.message ?? String(error);
}

async function errorFrom(response: Response, hasToken: boolean): Promise<CliError> {
  const text = await response.text().catch(() => '');
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = JSON.parse(text) as { error?: { message?: string } };
    if (body.error?.message) message = body.error.message;
  } catch {
    if (text.trim()) message = `${message}: ${text.trim().slice(0, 300)}`;
  }
  if (response.status === 401) message += hasToken ? ' (check --token or CUTOVER_TOKEN)' : ' (give a token with --token or CUTOVER_TOKEN)';
  return new CliError(message, exitCodeForStatus(response.status));
}

export function createApiClient(options: ApiClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, '');
  const authorization: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};

  async function request(
    method: string,
    path: string,
    init: { json?: unknown; body?: RequestInit['body']; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = {
      ...authorization,
      ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    };
    const body = init.json !== undefined ? JSON.stringify(init.json) : init.body;
    let response: Response;
    try {
      // duplex: a streamed upload body (Node's fetch needs it said).
      response = await fetch(`${base}${path}`, {
        method,
        headers,
        body,
        ...(body && typeof body !== 'string' ? { duplex: 'half' } : {}),
      } as RequestInit);
    } catch (error) {
      throw new CliError(
        `the Cutover API at ${base} is unreachable (${describeNetworkError(error)}); set --api or CUTOVER_API_URL`,
        exitCodes.unreachable,
      );
    }
    if (!response.ok) throw await errorFrom(response, Boolean(options.token));
    return response;
  }

  return {
    base,
    request,
    get: async <T>(path: string) => (await (await request('GET', path)).json()) as T,
    post: async <T>(path: string, json: unknown) => (await (await request('POST', path, { json })).json()) as T,
    text: async (path: string) => (await request('GET', path)).text(),
  };
}
