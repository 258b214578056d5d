import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { PackageError } from '../packages/errors.js';
import type { PackageRef } from '../packages/manifest.js';
import { packagePathUnderRoots } from '../packages/roots.js';
import type { ApiDeps } from './deps.js';
import { ApiError } from './errors.js';

const UPLOAD = 'upload the package (POST /v1/packages; `cutover deploy` does it for a folder or .tar.gz)';
const UPLOAD_INSTEAD = `${UPLOAD} and give sha256:<id>`;

function fail(message: string): ApiError {
  return new ApiError(422, 'invalid-package', `body.package: ${message}`, { fields: [{ field: 'body.package', message }] });
}

/**
 * Where a package named by host path is read from. Under `packages.roots` when the config has any;
 * without roots, anywhere while the API is open (whoever reaches an open API may deploy anything
 * anyway), and nowhere once tokens guard it: a token must not read the host beyond what it deploys.
 */
async function hostPackagePath(deps: ApiDeps, input: string): Promise<string> {
  const roots = deps.config.packages.roots;
  if (roots.length === 0) {
    if (deps.config.auth) {
      throw fail(`host paths are not accepted: this Cutover has no package roots (packages.roots in its config); ${UPLOAD_INSTEAD}`);
    }
    if (!existsSync(input)) throw fail(`no package at ${input}`);
    return input;
  }
  const path = await packagePathUnderRoots(roots, input);
  // One answer for missing, outside and linked-out paths: it must not tell what exists on the host.
  if (!path) {
    const where = 'the package roots (packages.roots in the config)';
    throw fail(`no package at ${input} under ${where}; give a path under one, or ${UPLOAD_INSTEAD}`);
  }
  return path;
}

/** `sha256:<id>` names a stored package; an absolute path is a package on this host, imported into the store. */
export async function resolvePackage(deps: ApiDeps, input: string): Promise<PackageRef> {
  const stored = /^sha256:(.*)$/.exec(input);
  if (stored) {
    try {
      return (await deps.store.getPackage(stored[1]!)).ref;
    } catch (error) {
      // The store's own message names its folder on the host: the caller gets the id only.
      if (error instanceof PackageError && error.code === 'unknown-package') throw fail(`no package ${stored[1]}: ${UPLOAD} first`);
      if (error instanceof PackageError) throw fail(error.message);
      throw error;
    }
  }
  if (!isAbsolute(input)) {
    const why = "the API does not know the caller's working directory";
    throw fail(`"${input}" is a relative path, and ${why}: give an absolute path on the Cutover host, or ${UPLOAD_INSTEAD}`);
  }
  try {
    return (await deps.store.importPackage(await hostPackagePath(deps, input))).ref;
  } catch (error) {
    // Anything else (a disk error) is the API's problem, a 500 that shows no internal path.
    if (error instanceof PackageError) throw fail(error.message);
    throw error;
  }
}
