import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { runStage, tempStore } from '../../src/testing/harness.ts';
import { syntheticDicom } from '../../src/stages/synthetic-dicom.ts';
import { ingestDicom } from '../../src/stages/ingest-dicom.ts';
import { phantomImages } from '../../src/ops/dicom/phantom.ts';
import { pseudonymizeUid } from '../../src/ops/dicom/pseudonym.ts';
import { writeDemoSet } from '../../src/ops/dicom/demo-set.ts';
import { TRANSFER_SYNTAX_UIDS, writeDicom } from '../../src/ops/dicom/write.ts';
import type { DatasetRow } from '../../src/data-model.ts';
import { Collections } from '../../src/store/store.ts';
import { runPythonJson } from '../ops/dicom/python.ts';
import { DICOM_FIXTURES } from '../support/fixtures.ts';
import { needs } from '../support/reference-tools.ts';

const PHANTOM = { patients: 6, seed: 3, size: 64 };

/** Every PHI value the phantom wrote (patient ids, names, birth dates). */
function phiValues(options = PHANTOM): string[] {
  const out = new Set<string>();
  for (const im of phantomImages(options)) {
    const p = im.spec.patient!;
    out.add(p.id!);
    out.add(p.name!);
    out.add(p.name!.split('^')[0]);
    out.add(p.birthDate!);
  }
  return [...out];
}

/** Every document and blob of the store as text, except DICOM files (with a preamble, or the digests in `skip`). */
async function allStoreText(store: Awaited<ReturnType<typeof tempStore>>, skip = new Set<string>()): Promise<string> {
  let text = '';
  for await (const digest of store.listBlobs()) {
    const b = await store.getBlob(digest);
    if (b.subarray(128, 132).toString('latin1') !== 'DICM' && !skip.has(digest)) text += b.toString('utf8');
  }
  for (const c of Object.values(Collections)) for await (const id of store.listDocIds(c)) text += JSON.stringify(await store.getDoc(c, id));
  return text;
}

test('synthetic-dicom -> ingest-dicom: labels and boxes joined, patients pseudonymised, no PHI anywhere', async () => {
  const store = await tempStore();
  const synth = await runStage(syntheticDicom, { store, params: PHANTOM });
  const truth = [...phantomImages(PHANTOM)];
  assert.equal(synth.artifact.kind, 'files');
  assert.equal(Object.keys(synth.artifact.files).filter((f) => f.endsWith('.dcm')).length, truth.length);
  const again = await runStage(syntheticDicom, { store, params: PHANTOM });
  assert.equal(again.artifact.digest, synth.artifact.digest, 'same seed, same bytes');

  const ingest = await runStage(ingestDicom, { store, inputs: [{ artifact: synth.artifact, name: 'synth' }] });
  const rows = await ingest.rows<DatasetRow>();
  assert.equal(rows.length, truth.length);
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const im of truth) {
    const row = byId.get(im.imageId)!;
    assert.ok(row, `row for ${im.imageId}`);
    const expected = im.findings.length ? im.findings.map((f) => f.label).sort() : ['No finding'];
    assert.deepEqual(row.labels, expected);
    assert.equal(row.boxes?.length ?? 0, im.findings.length * 3, 'three readers per finding');
    assert.deepEqual(new Set(row.boxes?.map((b) => b.reader)), new Set(im.findings.length ? im.readers : []));
    assert.equal(row.width, 64);
    assert.equal(row.sop, pseudonymizeUid(im.spec.sopUid, 'pipeline'));
    // The transfer syntax the phantom wrote the file in (implicit/explicit LE, BE, deflate, RLE), by UID.
    assert.equal(row.transfer_syntax, TRANSFER_SYNTAX_UIDS[im.spec.transferSyntax ?? 'explicit-le']);
    assert.equal(row.dicom, synth.artifact.files[`dicom/${im.imageId}.dcm`]);
  }
  // One pseudonym per patient, same for all of a patient's images.
  const patients = new Map<number, Set<string>>();
  truth.forEach((im) => patients.set(im.patientIndex, (patients.get(im.patientIndex) ?? new Set()).add(byId.get(im.imageId)!.patient!)));
  assert.equal(patients.size, 6);
  for (const set of patients.values()) assert.equal(set.size, 1);
  assert.equal(new Set(rows.map((r) => r.patient)).size, 6);
  for (const r of rows) assert.match(r.patient!, /^P[0-9a-f]{16}$/);
  assert.deepEqual(ingest.artifact.meta.classes, ['Cardiomegaly', 'Nodule/Mass', 'Pleural effusion', 'No finding']);
  assert.ok(new Set(rows.map((r) => r.transfer_syntax)).size >= 3, 'the phantom varies the transfer syntax');

  const everything = (await allStoreText(store)) + ingest.logs.join('\n') + synth.logs.join('\n');
  for (const phi of phiValues()) assert.ok(!everything.includes(phi), `PHI value leaked into the store or logs`);

  const kept = await runStage(ingestDicom, { store, inputs: [{ artifact: synth.artifact }], params: { keep_original_patient_ids: true } });
  const keptRows = await kept.rows<DatasetRow>();
  assert.ok(keptRows.every((r) => /^PID\d{7}$/.test(r.patient!)), 'the opt-out keeps the original ids');
});

test('folder ingest: incremental by content, duplicates by SOPInstanceUID, bad files reported and never cached', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ingest-dicom-'));
  const src = join(dir, 'train');
  await mkdir(src);
  const first = await writeDemoSet({ patients: 4, seed: 11, size: 48 }, (name, bytes) => writeFile(join(src, name), bytes));
  await writeFile(join(dir, 'labels.csv'), first.labelsCsv);
  const store = await tempStore();
  const params = { source: 'train', labels: 'labels.csv' };

  const a = await runStage(ingestDicom, { store, params, baseDir: dir });
  assert.equal((await a.rows()).length, first.images);
  assert.equal((a.artifact.meta.summary as any).unlabeled, 0);

  // 3 new images (one without the 128-byte preamble), a duplicate, and four bad files.
  const names: string[] = [];
  const more = await writeDemoSet({ patients: 2, seed: 12, size: 48 }, async (name, bytes) => {
    if (names.length < 3) {
      names.push(name);
      await writeFile(join(src, name), bytes);
    }
  });
  assert.ok(more.images >= 3);
  const good = await readFile(join(src, names[0]));
  const old = (await readdir(src)).find((n) => n.endsWith('.dcm') && !names.includes(n))!;
  await copyFile(join(src, old), join(src, 'copy-of-old.dcm'));
  await writeFile(join(src, 'not-dicom.dcm'), 'hello, I am text, not DICOM'.repeat(10));
  await writeFile(join(src, 'truncated.dcm'), good.subarray(0, good.length - 500));
  // Without the preamble: read as pydicom reads it (another image, so it is not a duplicate).
  const other = await readFile(join(src, names[1]));
  await writeFile(join(src, 'no-preamble.dcm'), other.subarray(132));
  await rm(join(src, names[1]));
  const pixelTag = good.indexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
  await writeFile(join(src, 'no-pixels.dcm'), good.subarray(0, pixelTag));
  const rle = writeDicom({ rows: 4, columns: 4, pixels: new Uint16Array(16).fill(7), transferSyntax: 'rle' });
  await writeFile(join(src, 'rle-truncated.dcm'), rle.subarray(0, rle.length - 12));
  // Index files that public DICOM collections ship beside the images are not DICOM candidates.
  await writeFile(join(src, 'INDEX.tsv'), 'file\tmodality\n');
  await writeFile(join(src, 'notes.pdf'), '%PDF-1.4');
  await mkdir(join(src, 'cd'));
  await writeFile(join(src, 'cd', 'DICOMDIR'), good.subarray(0, pixelTag));

  const b = await runStage(ingestDicom, { store, params, baseDir: dir });
  const progress = b.events.filter((e) => e.type === 'progress').at(-1) as any;
  const total = first.images + 3 + 1 + 4;
  assert.equal(progress.items.total, total);
  assert.equal(progress.items.cached, first.images + 1, 'old files (and the copy of one, same content) come from the item cache');
  assert.equal(progress.items.failed, 4);
  const { boxes, ...summary } = b.artifact.meta.summary as any;
  assert.deepEqual(summary, { files: total, ingested: first.images + 3, duplicates: 1, failed: 4, unlabeled: 3 });
  assert.ok(boxes.kept > 0 && boxes.dropped === 0 && boxes.clipped === 0, JSON.stringify(boxes));
  const reasons = Object.fromEntries((b.artifact.meta.failed as any[]).map((f) => [f.path, f.reason]));
  assert.match(reasons['not-dicom.dcm'], /not a DICOM file/);
  assert.equal(reasons['no-preamble.dcm'], undefined, 'a file without the preamble is read');
  assert.ok((await b.rows<DatasetRow>()).some((r) => r.path === 'no-preamble.dcm'));
  // The duplicate is named with the file kept in its place (paths only, never the UID).
  assert.deepEqual(b.artifact.meta.duplicates, [{ path: 'copy-of-old.dcm', kept: old }]);
  assert.ok(b.logs.includes(`warn: skipped copy-of-old.dcm: same SOPInstanceUID as ${old} (kept)`), b.logs.join('\n'));
  const all = await runStage(ingestDicom, { store, params: { ...params, dedupe: false }, baseDir: dir });
  assert.deepEqual([all.artifact.meta.duplicates, (all.artifact.meta.summary as any).ingested], [[], first.images + 4]);
  const both = (await all.rows<DatasetRow>()).filter((r) => r.path === old || r.path === 'copy-of-old.dcm');
  assert.equal(both.length, 2);
  assert.equal(both[0].sop, both[1].sop);
  assert.notEqual(both[0].id, both[1].id);
  assert.match(reasons['truncated.dcm'], /truncated/);
  assert.match(reasons['no-pixels.dcm'], /no Pixel Data element/);
  assert.match(reasons['rle-truncated.dcm'], /truncated: encapsulated pixel data/);
  // Each skipped file is warned about once (not once by the item runner and again by the stage).
  assert.deepEqual(b.logs.filter((l) => l.includes('truncated.dcm:') && !l.includes('rle-')).map((l) => l.replace(/: truncated.*/, '')), ['warn: skipped item truncated.dcm']);

  // Rerun: nothing new parsed, failures retried (not cached as success).
  const c = await runStage(ingestDicom, { store, params, baseDir: dir });
  const p2 = c.events.filter((e) => e.type === 'progress').at(-1) as any;
  assert.equal(p2.items.cached, first.images + 4);
  assert.equal(p2.items.failed, 4);
  assert.equal(c.artifact.digest, b.artifact.digest);

  await assert.rejects(runStage(ingestDicom, { store, params: { ...params, on_error: 'fail' }, baseDir: dir }), /item (no-pixels|not-dicom|rle-truncated|truncated)\.dcm: /);
  await assert.rejects(runStage(ingestDicom, { store, params: { source: 'missing' }, baseDir: dir }), /source missing does not exist/);
});

test('pseudonymize.salt_env: the salt comes from the environment, changes the pseudonyms, and must be set', async () => {
  const store = await tempStore();
  const synth = await runStage(syntheticDicom, { store, params: { patients: 2, seed: 4, size: 32 } });
  const input = [{ artifact: synth.artifact }];
  process.env.TEST_INGEST_SALT = 'alpha';
  const a = await (await runStage(ingestDicom, { store, inputs: input, params: { pseudonymize: { salt_env: 'TEST_INGEST_SALT' } } })).rows<DatasetRow>();
  process.env.TEST_INGEST_SALT = 'beta';
  const b = await (await runStage(ingestDicom, { store, inputs: input, params: { pseudonymize: { salt_env: 'TEST_INGEST_SALT' } } })).rows<DatasetRow>();
  assert.notDeepEqual(a.map((r) => r.patient), b.map((r) => r.patient), 'a new salt gives new pseudonyms, not cached old ones');
  delete process.env.TEST_INGEST_SALT;
  await assert.rejects(runStage(ingestDicom, { store, inputs: input, params: { pseudonymize: { salt_env: 'TEST_INGEST_SALT' } } }), /TEST_INGEST_SALT, which is not set/);
});

test('real public DICOMs: header metadata equals pydicom, also for the file without preamble and file meta', { skip: needs('pydicom') }, async () => {
  const source = DICOM_FIXTURES;
  const store = await tempStore();
  const r = await runStage(ingestDicom, { store, params: { source, glob: '*.dcm' } });
  const rows = await r.rows<DatasetRow>();
  assert.deepEqual(r.artifact.meta.failed, []);
  const ref = runPythonJson<Record<string, any>>(
    `
import sys, json, glob, os, pydicom
out = {}
for p in sorted(glob.glob(os.path.join(sys.argv[1], '*.dcm'))):
    try:
        d = pydicom.dcmread(p, stop_before_pixels=True, force=True)
    except Exception:
        continue
    ts = d.file_meta.get('TransferSyntaxUID', '1.2.840.10008.1.2')  # no file meta: implicit VR little endian, as pydicom reads it
    out[os.path.basename(p)] = dict(sop=str(d.SOPInstanceUID), ts=str(ts), rows=int(d.Rows), cols=int(d.Columns),
        bits=int(d.BitsStored), photometric=str(d.PhotometricInterpretation), modality=str(d.get('Modality', '')) or None,
        study=str(d.get('StudyInstanceUID', '')), series=str(d.get('SeriesInstanceUID', '')),
        dates=[str(d.get(k, '')) for k in ('StudyDate', 'SeriesDate', 'AcquisitionDate', 'ContentDate', 'PatientBirthDate')])
print(json.dumps(out))
`,
    [source],
  );
  const unique = new Set(Object.values(ref).map((x) => x.sop)).size;
  assert.equal(rows.length, unique, 'one row per SOPInstanceUID');
  const original = await (await runStage(ingestDicom, { params: { source, glob: '*.dcm', keep_original_patient_ids: true } })).rows<DatasetRow>();
  for (const [row, kept] of rows.map((r, i) => [r, original[i]] as const)) {
    const want = ref[String(row.path)];
    assert.ok(want, `pydicom reads ${row.path}`);
    assert.deepEqual(
      [kept.sop, kept.study ?? '', kept.series ?? '', row.transfer_syntax, row.height, row.width, row.bits_stored, row.photometric, row.modality ?? null],
      [want.sop, want.study, want.series, want.ts, want.rows, want.cols, want.bits, want.photometric, want.modality],
      String(row.path),
    );
    // Pseudonymised (the default): the UIDs are replaced, consistently, by valid UIDs.
    assert.deepEqual([row.sop, row.study, row.series], [want.sop, want.study, want.series].map((u) => pseudonymizeUid(u, 'pipeline')));
    assert.match(String(row.sop), /^2\.25\.\d{1,39}$/);
  }
  // Real UIDs embed dates (1.3.6.1.4.1.5962.1.2.1.20040826185059.5457: StudyDate 20040826): neither the
  // UIDs nor any of the header's dates appear in the pseudonymised rows.
  const text = JSON.stringify(rows);
  const secrets = Object.values(ref).flatMap((x) => [x.sop, x.study, x.series, ...x.dates.filter((d: string) => /^\d{8}$/.test(d) && d !== '00000000')]);
  assert.ok(secrets.length > 3 * rows.length);
  for (const value of secrets) assert.ok(!text.includes(value), `${value} in the rows`);

  // A second ingest of the folder is served from the item cache, with the same output.
  const again = await runStage(ingestDicom, { store, params: { source, glob: '*.dcm' } });
  const progress = again.events.filter((e) => e.type === 'progress').at(-1) as any;
  assert.deepEqual([progress.items.cached, progress.items.total], [Object.keys(ref).length, Object.keys(ref).length]);
  assert.equal(again.artifact.digest, r.artifact.digest);
  // The item-cache documents (copied by `pipeline push`, shared with queue workers) hold the pseudonyms
  // and none of the UIDs or dates; nor does anything else in the store but the original files.
  const items: string[] = [];
  for await (const id of store.listDocIds(Collections.items)) items.push(JSON.stringify(await store.getDoc(Collections.items, id)));
  assert.equal(items.length, Object.keys(ref).length);
  for (const row of rows) assert.ok(items.some((doc) => doc.includes(String(row.sop)) && doc.includes(String(row.study))), `${row.path}: pseudonyms cached`);
  const originals = new Set(await Promise.all(Object.keys(ref).map(async (name) => sha256(await readFile(join(source, name))))));
  const everything = (await allStoreText(store, originals)) + items.join('\n');
  for (const value of secrets) assert.ok(!everything.includes(value), `${value} in the store outside the original DICOM files`);
});

test('labels and split lists keyed by the original SOPInstanceUID still match, from the cache too', { skip: needs('pydicom') }, async () => {
  const ref = runPythonJson<Record<string, string>>(
    `
import sys, json, glob, os, pydicom
print(json.dumps({os.path.basename(p): str(pydicom.dcmread(p, stop_before_pixels=True, force=True).SOPInstanceUID) for p in sorted(glob.glob(os.path.join(sys.argv[1], '*.dcm')))}))
`,
    [DICOM_FIXTURES],
  );
  const dir = await mkdtemp(join(tmpdir(), 'ingest-dicom-uid-labels-'));
  try {
    const uids = [...new Set(Object.values(ref))];
    // Alternate classes by UID; the first three UIDs form the test split list.
    await writeFile(join(dir, 'labels.csv'), `sop,finding\n${uids.map((u, i) => `${u},${i % 2 ? 'b' : 'a'}`).join('\n')}\n`);
    await writeFile(join(dir, 'test.txt'), uids.slice(0, 3).join('\n') + '\n');
    const params = { source: DICOM_FIXTURES, glob: '*.dcm', labels: { path: 'labels.csv', format: 'generic', id_column: 'sop', label_column: 'finding' }, split_lists: { test: 'test.txt' } };
    const store = await tempStore();
    const first = await runStage(ingestDicom, { store, params, baseDir: dir });
    const cached = await runStage(ingestDicom, { store, params, baseDir: dir });
    const kept = await (await runStage(ingestDicom, { params: { ...params, keep_original_patient_ids: true }, baseDir: dir })).rows<DatasetRow>();
    assert.equal((cached.events.filter((e) => e.type === 'progress').at(-1) as any).items.cached, Object.keys(ref).length);
    for (const run of [first, cached]) {
      const rows = await run.rows<DatasetRow>();
      assert.equal(rows.length, uids.length);
      assert.equal((run.artifact.meta.summary as { unlabeled: number }).unlabeled, 0);
      for (const [row, original] of rows.map((x, i) => [x, kept[i]] as const)) {
        const i = uids.indexOf(ref[String(row.path)]);
        assert.deepEqual([row.labels, row.split], [[i % 2 ? 'b' : 'a'], i < 3 ? 'test' : undefined], String(row.path));
        assert.deepEqual([row.labels, row.split], [original.labels, original.split], 'as with the original UIDs');
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('synthetic-dicom `out` also writes the files into a folder, which ingest-dicom reads to the same rows', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'synth-out-'));
  const store = await tempStore();
  const params = { patients: 3, seed: 8, size: 32 };
  const synth = await runStage(syntheticDicom, { store, params: { ...params, out: 'demo' }, baseDir: dir });
  const written = (await readdir(join(dir, 'demo'))).sort();
  assert.deepEqual(written, Object.keys(synth.artifact.files).map((f) => f.replace(/^dicom\//, '')).sort());
  const fromFolder = await (await runStage(ingestDicom, { store, params: { source: 'demo', labels: 'demo/labels.csv' }, baseDir: dir })).rows<DatasetRow>();
  const fromInput = await (await runStage(ingestDicom, { store, inputs: [{ artifact: synth.artifact }] })).rows<DatasetRow>();
  const strip = (rows: DatasetRow[]) => rows.map(({ path: _p, ...rest }) => rest).sort((a, b) => a.id.localeCompare(b.id));
  assert.deepEqual(strip(fromFolder), strip(fromInput));
});

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
