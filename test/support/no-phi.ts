import assert from 'node:assert/strict';
import type { Store } from '../../src/store/store.ts';
import type { MlflowDouble } from './mlflow-double.ts';

/**
 * Asserts that none of `phi` (patient names, ids, birth dates...) appears in anything the MLflow
 * double received or in any document of the given store collections (the local tracker's runs,
 * the tracking buffer, schedule records). Matching is case-insensitive on the raw text.
 */
export async function assertNoPhi(phi: readonly string[], where: { double?: MlflowDouble; store?: Store; collections?: readonly string[] }): Promise<void> {
  const needles = phi.filter((p) => p.trim().length > 0).map((p) => p.toLowerCase());
  assert.ok(needles.length > 0, 'assertNoPhi needs at least one PHI string');
  const haystacks: Array<[string, string]> = [];
  if (where.double) haystacks.push(['MLflow requests', where.double.allReceivedText()]);
  if (where.double) for (const [path, bytes] of where.double.artifacts) haystacks.push([`MLflow artifact ${path}`, bytes.toString('utf8')]);
  if (where.store) {
    for (const collection of where.collections ?? ['tracking-runs', 'tracking-buffer', 'schedule-runs']) {
      for await (const id of where.store.listDocIds(collection)) {
        haystacks.push([`${collection}/${id}`, id + '\n' + JSON.stringify(await where.store.getDoc(collection, id))]);
      }
    }
  }
  for (const [label, text] of haystacks) {
    const lower = text.toLowerCase();
    for (const [i, needle] of needles.entries()) {
      // Never print the PHI itself in the failure message.
      assert.ok(!lower.includes(needle), `PHI string #${i + 1} (length ${needle.length}) found in ${label}`);
    }
  }
}
