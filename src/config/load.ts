import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { configSchema, type CutoverConfig } from './schema.js';
import { formatPath } from './fields.js';

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: Array<{ path: string; message: string }>,
  ) {
    super(`${file} is invalid:\n${problems.map((p) => `  ${file}: ${p.path || '(top level)'}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadedConfig extends CutoverConfig {
  /** Absolute path of the file it came from; relative paths in it resolve against its folder. */
  file: string;
}

export function parseConfig(text: string, file: string): LoadedConfig {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '',
        message: e.message.split('\n')[0] ?? e.message,
      })),
    );
  }
  const result = configSchema.safeParse(doc.toJS() ?? {});
  if (!result.success) {
    throw new ConfigError(
      file,
      result.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
    );
  }
  const config = result.data;
  const base = dirname(file);
  return { ...config, stateDir: isAbsolute(config.stateDir) ? config.stateDir : resolve(base, config.stateDir), file };
}

export function configPath(explicit?: string): string {
  return resolve(explicit ?? process.env.CUTOVER_CONFIG ?? 'cutover.yaml');
}

export function loadConfig(path?: string): LoadedConfig {
  const file = configPath(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [
      { path: '', message: `cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})` },
    ]);
  }
  return parseConfig(text, file);
}
