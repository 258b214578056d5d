/**
 * The API docs page (Swagger UI) with its script and stylesheet served by the API itself, from the pinned
 * swagger-ui-dist package: the page works without internet access (a CDN copy left it blank offline).
 */
import { swaggerUI } from '@hono/swagger-ui';
import { Hono, type Env } from 'hono';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const assetsDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** The files the page loads, and nothing else of the package. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

/** The page at `path`, its assets under `path`/swagger-ui-dist/ (where @hono/swagger-ui looks, given baseUrl). */
export function docsPage<E extends Env>(options: { path: string; openapi: string }) {
  const cache = new Map<string, Buffer>();
  const app = new Hono<E>();
  app.get(options.path, swaggerUI({ url: options.openapi, title: 'Cutover API', baseUrl: options.path }));
  app.get(`${options.path}/swagger-ui-dist/:file`, async (c) => {
    const file = c.req.param('file');
    const type = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
    if (!type) return c.notFound();
    let body = cache.get(file);
    if (!body) cache.set(file, (body = await readFile(join(assetsDir, file))));
    return c.body(new Uint8Array(body), 200, { 'content-type': type, 'cache-control': 'public, max-age=3600' });
  });
  return app;
}
