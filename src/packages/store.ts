import { mkdir, mkdtemp, open, readdir, rename, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DatabaseEngineName } from '../config/schema.js';
import type { Migration } from '../engines/engine.js';
import { copyPackageDirectory } from './copy.js';
import { migrationsFolderFor } from './engine-migrations.js';
import { PackageError } from './errors.js';
import { DEFAULT_PACKAGE_LIMITS, LimitCounter, type PackageLimits } from './limits.js';
import type { PackageManifest, PackageRef } from './manifest.js';
import { readMigrationFiles } from './migrations.js';
import { readManifest } from './read-manifest.js';
import { hashPackageTree, makeTreeReadOnly, removeTree, syncTree, walkPackageTree } from './tree.js';
import { unpackTarball } from './unpack.js';
import { validatePackageTree } from './validate.js';

/** A package in the store: its identity for workflows, its manifest, and its read-only folder on disk. */
export interface StoredPackage {
  ref: PackageRef;
  manifest: PackageManifest;
  dir: string;
}

export type PackageStoreOptions = Partial<PackageLimits>;

export interface PackageStore {
  /** Absolute path of the store; packages live in `<dir>/sha256/<hex>/`. */
  readonly dir: string;
  /** Imports a package folder or .tar.gz; the same content always gives the same package. */
  importPackage(source: string): Promise<StoredPackage>;
  getPackage(sha256: string): Promise<StoredPackage>;
  /** Every stored package, by name, then version, then id. */
  listPackages(): Promise<StoredPackage[]>;
  /** The package's migrations in apply order; for an engine, from its own folder (e.g. migrations.sqlserver/) when the package has one. */
  readMigrations(pkg: StoredPackage, engine?: DatabaseEngineName): Promise<Migration[]>;
}

const PACKAGE_ID = /^[0-9a-f]{64}$/;
const STAGING_PREFIX = '.staging-';
/** A staging folder this old belongs to an import that crashed: no live import takes a day. */
const STALE_STAGING_MS = 24 * 60 * 60 * 1000;

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

async function syncFolder(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Options given as undefined keep their default. */
function definedOnly<T extends object>(options: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Best effort: clears what crashed imports left behind; never fails an import. */
async function removeStaleStaging(packagesDir: string): Promise<void> {
  const names = await readdir(packagesDir).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.startsWith(STAGING_PREFIX))) {
    const path = join(packagesDir, name);
    const stats = await stat(path).catch(() => undefined);
    if (stats && Date.now() - stats.mtimeMs > STALE_STAGING_MS) await removeTree(path).catch(() => undefined);
  }
}

/**
 * The content-addressed package store. An import is staged in a temporary folder next to the
 * packages, checked, hashed, made read-only, then renamed to `sha256/<hex>`: a package under its
 * final name is always complete, and a refused package leaves nothing behind. The id is
 * hashPackageTree (tree.ts) of the staged folder, so folders and tarballs agree.
 */
export function createPackageStore(dir: string, options: PackageStoreOptions = {}): PackageStore {
  const storeDir = resolve(dir);
  const packagesDir = join(storeDir, 'sha256');
  const limits: PackageLimits = { ...DEFAULT_PACKAGE_LIMITS, ...definedOnly(options) };

  async function load(sha256: string): Promise<StoredPackage> {
    const packageDir = join(packagesDir, sha256);
    const { manifest } = await readManifest(packageDir);
    return {
      ref: { sha256, name: manifest.name, version: manifest.version, warmupPath: manifest.warmupPath },
      manifest,
      dir: packageDir,
    };
  }

  async function stage(source: string, staging: string): Promise<void> {
    const stats = await stat(source).catch(() => undefined);
    if (stats?.isDirectory()) return copyPackageDirectory(source, staging, new LimitCounter(limits));
    if (stats?.isFile()) return unpackTarball(source, staging, limits);
    throw new PackageError('invalid-source', `package source "${source}" is neither a folder nor a .tar.gz file`);
  }

  async function importPackage(source: string): Promise<StoredPackage> {
    if (!(await stat(source).catch(() => undefined))) {
      throw new PackageError('invalid-source', `package source "${source}" not found`);
    }
    await mkdir(packagesDir, { recursive: true });
    await removeStaleStaging(packagesDir);
    const staging = await mkdtemp(join(packagesDir, STAGING_PREFIX));
    let stored = false;
    try {
      await stage(source, staging);
      await validatePackageTree(staging);
      const entries = await walkPackageTree(staging);
      const sha256 = await hashPackageTree(staging, entries);
      const finalDir = join(packagesDir, sha256);
      if (!(await stat(finalDir).catch(() => undefined))) {
        await syncTree(staging, entries);
        await makeTreeReadOnly(staging, entries);
        try {
          await rename(staging, finalDir);
          stored = true;
          await syncFolder(packagesDir);
        } catch (error) {
          // Another import of the same content won the race: its package is identical, use it.
          if (errnoCode(error) !== 'ENOTEMPTY' && errnoCode(error) !== 'EEXIST') throw error;
        }
      }
      return await load(sha256);
    } finally {
      if (!stored) await removeTree(staging);
    }
  }

  async function getPackage(sha256: string): Promise<StoredPackage> {
    const id = String(sha256).toLowerCase();
    if (!PACKAGE_ID.test(id)) {
      throw new PackageError('invalid-id', `package id must be 64 hexadecimal characters (a sha256), got "${String(sha256)}"`);
    }
    const stats = await stat(join(packagesDir, id)).catch(() => undefined);
    if (!stats?.isDirectory()) {
      throw new PackageError('unknown-package', `no package ${id} in the store at ${storeDir}: import it first`);
    }
    return load(id);
  }

  async function listPackages(): Promise<StoredPackage[]> {
    const names = await readdir(packagesDir).catch((error: unknown) => {
      if (errnoCode(error) === 'ENOENT') return [] as string[];
      throw error;
    });
    const packages = await Promise.all(names.filter((name) => PACKAGE_ID.test(name)).map(load));
    return packages.sort(
      (a, b) => compareText(a.ref.name, b.ref.name) || compareText(a.ref.version, b.ref.version) || compareText(a.ref.sha256, b.ref.sha256),
    );
  }

  return {
    dir: storeDir,
    importPackage,
    getPackage,
    listPackages,
    readMigrations: async (pkg, engine) =>
      readMigrationFiles(pkg.dir, engine ? await migrationsFolderFor(pkg.dir, pkg.manifest.migrations, engine) : pkg.manifest.migrations),
  };
}
