/**
 * Expand/contract mode: which pending migrations run before the new version starts (expand) and which once no old
 * version runs (contract). The same on every engine; refused before anything is applied when the mode cannot keep
 * its promise (a pending migration that needs a clone, or an order the mode would change).
 */
import { EngineError, type Migration } from './engine.js';

export interface ExpandContractPlan {
  /** Pending expand migrations, in apply order. */
  expand: string[];
  /** Pending contract migrations, in apply order. */
  contract: string[];
  /** Pending expand migrations that have no undo script: they could not be reverted if the old version fails on them. */
  withoutUndo: string[];
}

const byName = (a: Migration, b: Migration) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

const listed = (names: string[]) => (names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', '));

export function planExpandContract(applied: readonly string[], migrations: readonly Migration[]): ExpandContractPlan {
  const done = new Set(applied);
  const pending = migrations.filter((m) => !done.has(m.name)).sort(byName);
  const plain = pending.filter((m) => m.phase === undefined).map((m) => m.name);
  if (plain.length > 0) {
    const one = plain.length === 1;
    throw new EngineError(
      'invalid-input',
      `migration${one ? '' : 's'} ${listed(plain)} ${one ? 'is' : 'are'} neither expand nor contract (not in the expand/ or ` +
        `contract/ folder of the migrations): the old version may not work on ${one ? 'it' : 'them'}, ` +
        `so ${one ? 'it needs' : 'they need'} a clone. ` +
        'Deploy in readonly, readwrite or maintenance-page mode, or move each to expand/ (the old version keeps working on it) ' +
        'or to contract/ (applied once no old version runs)',
    );
  }
  const firstContract = pending.findIndex((m) => m.phase === 'contract');
  const lateExpand = firstContract < 0 ? undefined : pending.slice(firstContract).find((m) => m.phase === 'expand');
  if (lateExpand) {
    throw new EngineError(
      'invalid-input',
      `contract migration ${pending[firstContract]!.name} is not applied yet and sorts before expand migration ${lateExpand.name}: ` +
        'expand-contract mode applies every expand migration before any contract one, out of name order. ' +
        'Deploy in readonly, readwrite or maintenance-page mode, which applies them in name order',
    );
  }
  const expand = pending.filter((m) => m.phase === 'expand');
  return {
    expand: expand.map((m) => m.name),
    contract: pending.filter((m) => m.phase === 'contract').map((m) => m.name),
    withoutUndo: expand.filter((m) => m.undo === undefined).map((m) => m.name),
  };
}
