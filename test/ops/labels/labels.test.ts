import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCsv } from '../../../src/ops/labels/csv.ts';
import { findLabels, imageKeys, loadLabelTable } from '../../../src/ops/labels/load.ts';
import { splitSourceGlob } from '../../../src/ops/labels/source.ts';
import { pseudonymize } from '../../../src/ops/dicom/pseudonym.ts';
import { LabelIssues, DEFAULT_BAD_BOX_POLICY } from '../../../src/ops/labels/issues.ts';
import type { ReadContext } from '../../../src/ops/labels/read-context.ts';

const ctx = (policy: Partial<typeof DEFAULT_BAD_BOX_POLICY> = {}): ReadContext => ({ issues: new LabelIssues({ ...DEFAULT_BAD_BOX_POLICY, ...policy }) });
const plain = (boxes: unknown[] | undefined) => boxes?.map(({ at: _at, ...b }: any) => b);

test('parseCsv handles quotes, doubled quotes, CRLF and a BOM', () => {
  const { header, rows } = parseCsv('\uFEFFa,b\r\n"x, y","say ""hi"""\r\n1,\n');
  assert.deepEqual(header, ['a', 'b']);
  assert.deepEqual(rows, [{ a: 'x, y', b: 'say "hi"' }, { a: '1', b: '' }]);
});

test('VinBigData: several readers -> one row with the union of labels and every box with its reader', () => {
  const csv = [
    'image_id,class_name,class_id,rad_id,x_min,y_min,x_max,y_max',
    'img1,Cardiomegaly,3,R8,10,20,30,40',
    'img1,Cardiomegaly,3,R9,11,21,31,41',
    'img1,No finding,14,R10,,,,',
    'img1,Nodule/Mass,8,R10,5,6,7,8',
    'img2,No finding,14,R8,,,,',
    'img2,No finding,14,R9,,,,',
  ].join('\n');
  const t = loadLabelTable(csv, 'auto', {}, 'train.csv', ctx());
  assert.equal(t.format, 'vinbig');
  const img1 = t.byKey.get('img1')!;
  assert.deepEqual(img1.labels, ['Cardiomegaly', 'Nodule/Mass']);
  assert.deepEqual(img1.boxes!.map((b) => b.at), ['train.csv:2', 'train.csv:3', 'train.csv:5']);
  assert.deepEqual(plain(img1.boxes), [
      { label: 'Cardiomegaly', x_min: 10, y_min: 20, x_max: 30, y_max: 40, reader: 'R8' },
      { label: 'Cardiomegaly', x_min: 11, y_min: 21, x_max: 31, y_max: 41, reader: 'R9' },
      { label: 'Nodule/Mass', x_min: 5, y_min: 6, x_max: 7, y_max: 8, reader: 'R10' },
  ]);
  assert.deepEqual(t.byKey.get('img2'), { labels: ['No finding'], boxes: [] });
});

test('VinBigData: a non-numeric or degenerate box is a located error under fail, else counted and dropped (the label stays)', () => {
  const bad = 'image_id,class_name,class_id,rad_id,x_min,y_min,x_max,y_max\na,B,1,R1,x,1,2,3\na,B,1,R2,5,5,5,9\na,B,1,R3,1,1,4,4\n';
  assert.throws(() => loadLabelTable(bad, 'vinbig', {}, 'bad.csv', ctx({ malformed: 'fail' })), /^Error: bad.csv:2: x_min "x" is not a number \(box x_min=x y_min=1 x_max=2 y_max=3\) \(image a\)$/);
  assert.throws(() => loadLabelTable(bad, 'vinbig', {}, 'bad.csv', ctx({ degenerate: 'fail' })), /bad.csv:3: degenerate box \(x_min 5 x_max 5 y_min 5 y_max 9: width 0 as written\)/);
  const read = ctx();
  const t = loadLabelTable(bad, 'vinbig', {}, 'bad.csv', read);
  assert.deepEqual(t.byKey.get('a')!.labels, ['B']);
  assert.deepEqual(t.byKey.get('a')!.boxes!.map((b) => b.reader), ['R3']);
  assert.deepEqual(read.issues.list.map((i) => [i.kind, i.at, i.action]), [['malformed', 'bad.csv:2', 'dropped'], ['degenerate', 'bad.csv:3', 'dropped']]);
  // Known classes: another class's rows are unknown_class issues.
  const known = { ...ctx(), classes: new Set(['C']) };
  assert.equal(loadLabelTable(bad, 'vinbig', {}, 'bad.csv', known).byKey.size, 0);
  assert.equal(known.issues.counts.unknown_class, 3);
});

test('RSNA: Target 1 rows become boxes (x+width, y+height); Target 0 gives no labels', () => {
  const csv = 'patientId,x,y,width,height,Target\np1,10,20,100,50,1\np1,200,20,30,40,1\np2,,,,,0\n';
  const t = loadLabelTable(csv, 'auto', {}, 'rsna.csv', ctx());
  assert.equal(t.format, 'rsna');
  assert.deepEqual(t.byKey.get('p1')!.labels, ['Lung Opacity']);
  assert.deepEqual(t.byKey.get('p1')!.boxes!.map((b) => [b.x_min, b.y_min, b.x_max, b.y_max]), [[10, 20, 110, 70], [200, 20, 230, 60]]);
  assert.deepEqual(t.byKey.get('p2'), { labels: [], boxes: [] });
});

test('generic: NIH-style | labels with patient and split columns; 0/1 columns; errors name the column', () => {
  const nih = 'Image Index,Finding Labels,Patient ID,split\n00000001_000.png,Cardiomegaly|Effusion,1,train\n00000002_000.png,No Finding,2,test\n';
  const t = loadLabelTable(nih, 'auto', {}, 'nih.csv', ctx());
  assert.equal(t.format, 'generic');
  assert.deepEqual(t.byKey.get('00000001_000.png'), { labels: ['Cardiomegaly', 'Effusion'], patient: '1', split: 'train' });
  assert.deepEqual(findLabels(t, imageKeys('images/00000002_000.png')), { labels: ['No Finding'], patient: '2', split: 'test' });
  const onehot = loadLabelTable('id,cat,dog\na,1,0\nb,1,1\nc,0,0\n', 'generic', { id_column: 'id', label_columns: ['cat', 'dog'] }, 'x.csv', ctx());
  assert.deepEqual([...onehot.byKey].map(([k, v]) => [k, v.labels]), [['a', ['cat']], ['b', ['cat', 'dog']], ['c', []]]);
  assert.throws(() => loadLabelTable('id,label\na,x\n', 'generic', { id_column: 'name' }, 'y.csv', ctx()), /y.csv: no column "name" \(columns: id, label\)/);
  assert.throws(() => loadLabelTable('id,cat\na,2\n', 'generic', { id_column: 'id', label_columns: ['cat'] }, 'z.csv', ctx()), /z.csv:2, column cat: "2" is not 0\/1/);
});

test('imageKeys and splitSourceGlob', () => {
  assert.deepEqual(imageKeys('a/b/c.dcm', '1.2.3'), ['a/b/c.dcm', 'a/b/c', 'c.dcm', 'c', '1.2.3']);
  assert.deepEqual(imageKeys('c.png'), ['c.png', 'c']);
  assert.deepEqual(splitSourceGlob('data/train/**/*.dicom'), { base: 'data/train', glob: '**/*.dicom' });
  assert.deepEqual(splitSourceGlob('data/train'), { base: 'data/train' });
  assert.deepEqual(splitSourceGlob('*.dcm'), { base: '.', glob: '*.dcm' });
});

test('pseudonymize: salted, stable, no trace of the id', () => {
  const a = pseudonymize('PID0012345', 's1')!;
  assert.match(a, /^P[0-9a-f]{16}$/);
  assert.equal(pseudonymize(' PID0012345 ', 's1'), a);
  assert.notEqual(pseudonymize('PID0012345', 's2'), a);
  assert.equal(pseudonymize('', 's1'), undefined);
  assert.ok(!a.includes('12345'));
});
