import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { removeTree } from '../../../src/packages/tree.js';

/** Temp folders of one test file, removed at the end even when a store made them read-only. */
export function tempFolders() {
  const created: string[] = [];
  return {
    async make(prefix = 'cutover-packages-'): Promise<string> {
      const dir = await mkdtemp(join(tmpdir(), prefix));
      created.push(dir);
      return dir;
    },
    async removeAll(): Promise<void> {
      await Promise.all(created.splice(0).map((dir) => removeTree(dir)));
    },
  };
}

export const validManifest = {
  name: 'shop',
  version: '1.4.0',
  start: ['node', 'server.cjs'],
  warmupPath: '/healthz',
};

/** Writes a package folder: path → content; a leading "+x " marks an executable file. */
export async function writeTree(root: string, files: Record<string, string>): Promise<string> {
  for (const [path, content] of Object.entries(files)) {
    const file = join(root, path);
    await mkdir(dirname(file), { recursive: true });
    const executable = content.startsWith('+x ');
    await writeFile(file, executable ? content.slice(3) : content);
    await chmod(file, executable ? 0o755 : 0o644);
  }
  return root;
}

/** A small valid package with two migrations, written in a new temp folder. */
export async function writeSamplePackage(folders: ReturnType<typeof tempFolders>, overrides: Record<string, string> = {}): Promise<string> {
  return writeTree(await folders.make('cutover-sample-'), {
    'cutover-package.json': JSON.stringify(validManifest),
    'server.cjs': "require('node:http').createServer((q, s) => s.end('ok')).listen(process.env.PORT);\n",
    'bin/run.sh': '+x #!/bin/sh\nexec node server.cjs\n',
    'public/index.html': '<h1>shop</h1>\n',
    'migrations/0001_create_orders.sql': 'CREATE TABLE orders (id serial PRIMARY KEY);\n',
    'migrations/0002_add_total.sql': 'ALTER TABLE orders ADD COLUMN total numeric NOT NULL DEFAULT 0;\n',
    ...overrides,
  });
}
