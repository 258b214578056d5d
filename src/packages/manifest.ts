import { z } from 'zod';

/** `cutover-package.json` at the root of every package. */
export const manifestSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes'),
  version: z.string().regex(/^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/, 'must be a version like 1.2.0'),
  /** argv of the process that serves the site; PORT and DATABASE_URL come in its environment. */
  start: z.array(z.string().min(1)).min(1, 'must name the command to run'),
  warmupPath: z.string().startsWith('/', 'must start with "/"').default('/'),
  migrations: z.string().default('migrations'),
});

export type PackageManifest = z.infer<typeof manifestSchema>;

export const MANIFEST_FILE = 'cutover-package.json';

/** A package as the workflow sees it: no paths on disk, only identity. */
export interface PackageRef {
  /** sha256 of the package content (see store.ts for what is hashed). */
  sha256: string;
  name: string;
  version: string;
  warmupPath: string;
}
