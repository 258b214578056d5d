import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { StoredPackage } from '../../packages/store.js';
import { PackageError } from '../../packages/errors.js';
import { allow, type ApiEnv } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { failures, json, needs, secured } from '../openapi.js';
import { packageListSchema, packageParam, packageSchema, uploadedPackageSchema } from '../schemas.js';
import { withUpload } from '../upload.js';
import { validationHook } from '../validation.js';

const ACCEPTED_TYPES = ['application/gzip', 'application/x-gzip', 'application/octet-stream'];
const archive = { schema: z.string().openapi({ type: 'string', format: 'binary' }) };

const describe = (pkg: StoredPackage) => ({
  id: pkg.ref.sha256,
  package: `sha256:${pkg.ref.sha256}`,
  name: pkg.ref.name,
  version: pkg.ref.version,
  warmupPath: pkg.ref.warmupPath,
});

export function packageRoutes(deps: ApiDeps) {
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/packages',
      summary: 'Upload a package (.tar.gz); deploy it afterwards as sha256:<id>',
      description: `${needs('the role deployer')} The same content always gives the same id; uploading it again is harmless.`,
      security: secured,
      middleware: [allow('upload', 'upload packages')],
      request: { body: { content: Object.fromEntries(ACCEPTED_TYPES.map((type) => [type, archive])), required: true } },
      responses: { 201: json(uploadedPackageSchema, 'Stored (or already there)'), ...failures(401, 403, 413, 415, 422) },
    }),
    async (c) => {
      const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (!ACCEPTED_TYPES.includes(type)) {
        throw new ApiError(
          415,
          'unsupported-media-type',
          `header.content-type: must be one of ${ACCEPTED_TYPES.join(', ')} (the package as a .tar.gz)`,
          {
            fields: [{ field: 'header.content-type', message: `must be one of ${ACCEPTED_TYPES.join(', ')}` }],
          },
        );
      }
      const stored = await withUpload(
        c.req.raw.body,
        c.req.header('content-length'),
        { maxBytes: deps.settings.maxUploadBytes, dir: deps.settings.uploadDir },
        async (upload) => {
          try {
            return { pkg: await deps.store.importPackage(upload.file), upload: { bytes: upload.bytes, sha256: upload.sha256 } };
          } catch (error) {
            // The store's refusals name the problem and the limit; anything else is a 500 that shows no internal path.
            if (!(error instanceof PackageError)) throw error;
            const message = `the package was refused: ${(error as Error).message}`;
            throw new ApiError(422, 'invalid-package', `body: ${message}`, { fields: [{ field: 'body', message }] });
          }
        },
      );
      return c.json({ ...describe(stored.pkg), upload: stored.upload }, 201, { Location: `/v1/packages/${stored.pkg.ref.sha256}` });
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/packages',
      summary: 'Every stored package, by name and version',
      description: needs('any role'),
      security: secured,
      middleware: [allow('view', 'list packages')],
      responses: { 200: json(packageListSchema, 'The stored packages'), ...failures(401) },
    }),
    async (c) => c.json({ packages: (await deps.store.listPackages()).map(describe) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/packages/{id}',
      summary: 'One stored package',
      description: needs('any role'),
      security: secured,
      middleware: [allow('view', 'see packages')],
      request: { params: packageParam },
      responses: { 200: json(packageSchema, 'The package'), ...failures(400, 401, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      try {
        return c.json(describe(await deps.store.getPackage(id)), 200);
      } catch (error) {
        if (error instanceof PackageError && error.code === 'unknown-package')
          throw new ApiError(404, 'not-found', `no package ${id}: upload it first`);
        throw error;
      }
    },
  );

  return app;
}
