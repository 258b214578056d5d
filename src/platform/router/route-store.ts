import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from '../../process/atomic-file.js';
import { describeIssues, routeTableSchema, type RouteTable, type SiteRoutes } from './routes.js';

/** The router's routes on disk: the source of truth after a restart, so traffic goes where it went before. */
export class RouteStore {
  readonly file: string;

  constructor(
    stateDir: string,
    readonly environment: string,
  ) {
    this.file = join(stateDir, 'router', `${environment}.json`);
  }

  /** Routes for exactly `siteNames`: a site new to the config starts with no routes, a site gone from it is dropped. */
  async load(siteNames: readonly string[]): Promise<{ table: RouteTable; droppedSites: string[] }> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { table: emptyTable(this.environment, siteNames), droppedSites: [] };
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      // Never guess routes: a router that serves the wrong slot is worse than one that refuses to start.
      throw new Error(`route store ${this.file} is not valid JSON (${(error as Error).message}); fix or remove it`, { cause: error });
    }
    const parsed = routeTableSchema.safeParse(json);
    if (!parsed.success)
      throw new Error(`route store ${this.file} is invalid: ${describeIssues(parsed.error, '(top level)')}; fix or remove it`);
    if (parsed.data.environment !== this.environment) {
      throw new Error(`route store ${this.file} belongs to environment "${parsed.data.environment}", not "${this.environment}"`);
    }
    const table = emptyTable(this.environment, siteNames);
    for (const name of siteNames) table.sites[name] = parsed.data.sites[name] ?? table.sites[name]!;
    const droppedSites = Object.keys(parsed.data.sites).filter((name) => !siteNames.includes(name));
    return { table, droppedSites };
  }

  /** A crash leaves the old or the new table on disk, never half of one. */
  async save(table: RouteTable): Promise<void> {
    await writeFileAtomically(this.file, `${JSON.stringify(table, null, 2)}\n`);
  }
}

export function emptyTable(environment: string, siteNames: readonly string[]): RouteTable {
  const sites: Record<string, SiteRoutes> = {};
  for (const name of siteNames) sites[name] = { live: null, preview: null };
  return { environment, sites };
}
