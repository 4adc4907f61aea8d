import assert from 'node:assert/strict';
import dicomParser from 'dicom-parser';
import type { Store } from '../../src/store/store.ts';
import { Collections } from '../../src/store/store.ts';
import { loadArtifact } from '../../src/engine/artifact.ts';
import type { LatestEntry } from '../../src/engine/cache-key.ts';

/** Patient names, ids and birth dates as written in the synthetic DICOMs (read back with dicom-parser). */
export async function demoPhi(store: Store): Promise<string[]> {
  const entry = await store.getDoc<LatestEntry>(Collections.latest, 'demo/synth');
  assert.ok(entry, 'no output for synth');
  const synth = (await loadArtifact(store, entry.artifact))!;
  const phi = new Set<string>();
  for (const [name, digest] of Object.entries(synth.files)) {
    if (!name.startsWith('dicom/')) continue;
    const ds = dicomParser.parseDicom(await store.getBlob(digest), { untilTag: "x7fe00010" });
    for (const tag of ['x00100010', 'x00100020', 'x00100030']) {
      const value = ds.string(tag)?.trim();
      if (value) phi.add(value);
    }
    const name10 = ds.string('x00100010');
    if (name10) for (const part of name10.split('^')) if (part.length >= 4) phi.add(part);
  }
  return [...phi];
}

