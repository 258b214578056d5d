import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

function inside(root: string, path: string): boolean {
  const rest = relative(root, path);
  return rest === '' || (rest !== '..' && !rest.startsWith(`..${sep}`) && !isAbsolute(rest));
}

/**
 * The real path of a package named by an absolute host path, when it lies under one of the package
 * roots with every link resolved (a link inside a root must not lead out of it); undefined otherwise,
 * the same whether the path is missing, outside, or a way out. A path outside every root is refused
 * before the disk is asked anything about it.
 */
export async function packagePathUnderRoots(roots: readonly string[], path: string): Promise<string | undefined> {
  const realRoots = (await Promise.all(roots.map((root) => realpath(root).catch(() => undefined)))).filter((root) => root !== undefined);
  const lexical = resolve(path);
  if (![...roots.map((root) => resolve(root)), ...realRoots].some((root) => inside(root, lexical))) return undefined;
  const real = await realpath(lexical).catch(() => undefined);
  return real !== undefined && realRoots.some((root) => inside(root, real)) ? real : undefined;
}
