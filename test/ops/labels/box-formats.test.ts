import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadLabelTable, tableFromEntries, findLabels, imageKeys } from '../../../src/ops/labels/load.ts';
import { DEFAULT_BAD_BOX_POLICY, LabelError, LabelIssues, type BadBoxPolicy } from '../../../src/ops/labels/issues.ts';
import type { ReadContext } from '../../../src/ops/labels/read-context.ts';
import { parseXml, XmlSyntaxError } from '../../../src/ops/labels/xml.ts';
import { readVocFile } from '../../../src/ops/labels/voc.ts';
import { readCoco } from '../../../src/ops/labels/coco.ts';
import { parseClassNames, readYoloFile } from '../../../src/ops/labels/yolo.ts';
import { resolveBoxes } from '../../../src/ops/labels/resolve.ts';
import type { ImageLabels, SourceBox } from '../../../src/ops/labels/types.ts';

const BCCD = fileURLToPath(new URL('../../fixtures/bccd/', import.meta.url));
const ctx = (policy: Partial<BadBoxPolicy> = {}, classes?: string[]): ReadContext => ({
  issues: new LabelIssues({ ...DEFAULT_BAD_BOX_POLICY, ...policy }),
  ...(classes ? { classes: new Set(classes) } : {}),
});
const corners = (boxes: readonly { x_min: number; y_min: number; x_max: number; y_max: number }[] | undefined) => boxes!.map((b) => [b.x_min, b.y_min, b.x_max, b.y_max]);
const issuesOf = (read: ReadContext) => read.issues.list.map((i) => [i.kind, i.at, i.action]);

test('XML reader: elements with lines, attributes, entities, CDATA, comments; syntax errors located', () => {
  const root = parseXml('\uFEFF<?xml version="1.0"?>\n<!-- c -->\n<a x="1 &amp; 2">\n  <b>t &lt;&#65;&#x42;&gt;</b><c/>\n  <d><![CDATA[<raw>]]></d>\n</a>\n');
  assert.equal(root.name, 'a');
  assert.deepEqual(root.attributes, { x: '1 & 2' });
  assert.deepEqual(root.children.map((c) => [c.name, c.text, c.line]), [['b', 't <AB>', 4], ['c', '', 4], ['d', '<raw>', 5]]);
  const error = (xml: string) => {
    try {
      parseXml(xml);
    } catch (err) {
      assert.ok(err instanceof XmlSyntaxError);
      return err.message;
    }
    assert.fail('no error');
  };
  assert.equal(error('<a>\n <b></c>\n</a>'), 'line 2, column 5: closing tag </c> does not match <b> opened on line 2');
  assert.equal(error('<a>\n<b>'), 'line 2, column 4: <b> opened on line 2 is not closed');
  assert.equal(error('<a>x & y</a>'), 'line 1, column 6: "&" must start an entity like &amp;');
  assert.equal(error('<a></a><b/>'), 'line 1, column 8: a second root element <b>');
  assert.equal(error('<a b=1/>'), 'line 1, column 6: attribute b of <a>: value must be quoted');
});

test('Pascal VOC on real BCCD files: 1-based inclusive xmin..xmax becomes [xmin - 1, xmax), size kept, degenerate box located', () => {
  const read = ctx();
  const rel = 'BloodImage_00000.xml';
  const entry = readVocFile({ rel, text: readFileSync(`${BCCD}Annotations/${rel}`, 'utf8') }, read)!;
  assert.equal(entry.boxes!.length, 20);
  // <object> 1: WBC xmin 260 ymin 177 xmax 491 ymax 376; object 6: RBC 555 356 640 455 (touches the right edge).
  assert.deepEqual({ label: entry.boxes![0].label, box: corners([entry.boxes![0]])[0], at: entry.boxes![0].at }, { label: 'WBC', box: [259, 176, 491, 376], at: 'BloodImage_00000.xml:14 (object 1)' });
  assert.deepEqual(corners([entry.boxes![5]])[0], [554, 355, 640, 455]);
  assert.deepEqual(entry.size, { width: 640, height: 480, at: 'BloodImage_00000.xml:8' });
  assert.equal(read.issues.total, 0);
  // BloodImage_00338: object 13 (line 158) is RBC 504 337 504 337: a click, not a box.
  const bad = ctx();
  const e338 = readVocFile({ rel: 'BloodImage_00338.xml', text: readFileSync(`${BCCD}Annotations/BloodImage_00338.xml`, 'utf8') }, bad)!;
  assert.equal(e338.boxes!.length, 13);
  assert.deepEqual(bad.issues.list, [{ kind: 'degenerate', at: 'BloodImage_00338.xml:158 (object 13)', image: 'BloodImage_00338', action: 'dropped', message: 'degenerate box (xmin 504 xmax 504 ymin 337 ymax 337: width 0 as written)' }]);
  assert.throws(() => readVocFile({ rel: 'BloodImage_00338.xml', text: readFileSync(`${BCCD}Annotations/BloodImage_00338.xml`, 'utf8') }, ctx({ degenerate: 'fail' })), LabelError);
});

test('Pascal VOC: malformed files and objects are reported with line numbers; difficult and unknown classes', () => {
  const voc = (objects: string) => `<annotation>\n<size><width>10</width><height>8</height></size>\n${objects}</annotation>\n`;
  const object = (name: string, box: string, extra = '') => `<object><name>${name}</name>${extra}<bndbox>${box}</bndbox></object>\n`;
  const xyxy = (a: number | string, b: number, c: number, d: number) => `<xmin>${a}</xmin><ymin>${b}</ymin><xmax>${c}</xmax><ymax>${d}</ymax>`;
  const read = ctx({}, ['cat', 'dog']);
  const entry = readVocFile(
    {
      rel: 'sub/img.xml',
      text: voc(object('cat', xyxy(1, 1, 4, 4), '<difficult>1</difficult>') + object('cow', xyxy(1, 1, 2, 2)) + object('dog', xyxy('a', 1, 2, 2)) + '<object><name>dog</name></object>\n' + object('dog', xyxy(2.5, 1, 9.5, 8))),
    },
    read,
  )!;
  assert.deepEqual(corners(entry.boxes), [[0, 0, 4, 4], [1.5, 0, 9.5, 8]]);
  assert.equal(entry.boxes![0].difficult, true);
  assert.equal(entry.boxes![1].difficult, undefined);
  assert.deepEqual(issuesOf(read), [
    ['unknown_class', 'sub/img.xml:4 (object 2)', 'dropped'],
    ['malformed', 'sub/img.xml:5 (object 3)', 'dropped'],
    ['malformed', 'sub/img.xml:6 (object 4)', 'dropped'],
  ]);
  assert.match(read.issues.list[2].message, /object "dog" without a <bndbox>/);
  // A broken file is skipped and reported with line and column, or fails the ingest under malformed: fail.
  const broken = ctx();
  assert.equal(readVocFile({ rel: 'x.xml', text: '<annotation>\n<object><name>a</name>\n</annotation>' }, broken), undefined);
  assert.deepEqual(issuesOf(broken), [['malformed', 'x.xml:3:1', 'dropped']]);
  assert.match(broken.issues.list[0].message, /not well-formed XML: closing tag <\/annotation> does not match <object> opened on line 2; the file is skipped/);
  assert.throws(() => readVocFile({ rel: 'y.xml', text: '<other/>' }, ctx({ malformed: 'fail' })), /y.xml:1: root element is <other>, not <annotation>/);
});

test('COCO JSON: [x, y, w, h] -> corners; crowd regions are difficult; unknown images/categories and bad boxes located by index and id', () => {
  const json = JSON.stringify({
    images: [{ id: 1, file_name: 'a/one.jpg', width: 100, height: 80 }, { id: 2, file_name: 'two.png', width: 50, height: 50 }, { id: 3, file_name: 'empty.png' }],
    categories: [{ id: 7, name: 'cell' }, { id: 3, name: 'blob' }],
    annotations: [
      { id: 10, image_id: 1, category_id: 7, bbox: [10.5, 20, 30, 40] },
      { id: 11, image_id: 1, category_id: 3, bbox: [0, 0, 5, 5], iscrowd: 1 },
      { id: 12, image_id: 9, category_id: 3, bbox: [0, 0, 5, 5] },
      { id: 13, image_id: 2, category_id: 99, bbox: [0, 0, 5, 5] },
      { id: 14, image_id: 2, category_id: 3, bbox: [0, 0, 0, 5] },
      { id: 15, image_id: 2, category_id: 3, bbox: [0, 0, 5] },
      { id: 16, image_id: 2, category_id: 3, bbox: [1, 2, 3, 4] },
    ],
  });
  const read = ctx();
  const { byFileName, classes } = readCoco(json, 'coco.json', read);
  assert.deepEqual(classes, ['blob', 'cell']); // ordered by category id
  const one = byFileName.get('a/one.jpg')!;
  assert.deepEqual(corners(one.boxes), [[10.5, 20, 40.5, 60], [0, 0, 5, 5]]);
  assert.deepEqual([one.boxes![0].label, one.boxes![0].difficult, one.boxes![1].difficult], ['cell', undefined, true]);
  assert.deepEqual(one.size, { width: 100, height: 80, at: 'coco.json images[0]' });
  assert.deepEqual(corners(byFileName.get('two.png')!.boxes), [[1, 2, 4, 6]]);
  assert.deepEqual(byFileName.get('empty.png'), { labels: [], boxes: [] });
  assert.deepEqual(issuesOf(read), [
    ['malformed', 'coco.json annotations[2] (id 12)', 'dropped'],
    ['unknown_class', 'coco.json annotations[3] (id 13)', 'dropped'],
    ['degenerate', 'coco.json annotations[4] (id 14)', 'dropped'],
    ['malformed', 'coco.json annotations[5] (id 15)', 'dropped'],
  ]);
  // Known classes narrow the categories.
  const narrow = ctx({}, ['cell']);
  readCoco(json, 'coco.json', narrow);
  assert.equal(narrow.issues.counts.unknown_class, 5);
  // A table keyed by file name, path without extension and stem finds images in subfolders.
  const table = tableFromEntries('coco', [...byFileName].map(([path, labels]) => ({ path, labels })), classes);
  assert.equal(findLabels(table, imageKeys('a/one.jpg')), one);
  assert.equal(findLabels(table, imageKeys('one.png')), one);
  assert.throws(() => readCoco('{"images": []', 'c.json', ctx()), /c.json: not valid JSON/);
  assert.throws(() => readCoco('{"images": [], "annotations": []}', 'c.json', ctx()), /c.json: no "categories" list/);
});

test('a stem shared by two annotation files joins neither by stem, each by path; a path beats another file\'s stem', () => {
  const a: ImageLabels = { labels: ['a'] };
  const b: ImageLabels = { labels: ['b'] };
  const table = tableFromEntries('voc', [{ path: 'train/x.xml', labels: a }, { path: 'val/x.xml', labels: b }]);
  assert.equal(findLabels(table, imageKeys('train/x.jpg')), a);
  assert.equal(findLabels(table, imageKeys('val/x.jpg')), b);
  assert.equal(findLabels(table, imageKeys('other/x.jpg')), undefined);
  const root: ImageLabels = { labels: ['root'] };
  const nested = tableFromEntries('voc', [{ path: 'x.xml', labels: root }, { path: 'sub/x.xml', labels: b }]);
  assert.equal(findLabels(nested, imageKeys('x.jpg')), root);
  assert.equal(findLabels(nested, imageKeys('sub/x.jpg')), b);
  // A unique stem still joins images laid out differently from the annotations (JPEGImages/ vs Annotations/).
  assert.equal(findLabels(tableFromEntries('voc', [{ path: 'y.xml', labels: a }]), imageKeys('deep/dir/y.png')), a);
});

test('YOLO txt: normalised centre/size, polygons to boxes, names from data.yaml / classes.txt, bad lines located', () => {
  const names = parseClassNames('path: ../data\nnames:\n  0: person\n  1: car\n', 'data.yaml');
  assert.deepEqual(names, ['person', 'car']);
  assert.deepEqual(parseClassNames('names: [a, b, c]\n', 'x.yml'), ['a', 'b', 'c']);
  assert.deepEqual(parseClassNames('a\r\nb\n\n', 'classes.txt'), ['a', 'b']);
  assert.throws(() => parseClassNames('names: {0: a, 2: c}\n', 'data.yaml'), /without gaps/);
  assert.throws(() => parseClassNames('nc: 2\n', 'data.yaml'), /data.yaml: no "names"/);
  const read = ctx();
  const entry = readYoloFile(
    { rel: 'train/img1.txt', text: '0 0.5 0.5 0.2 0.4\n\n1 0.1 0.1 0.2 0.2 0.9\n1 0.25 0.25 0 0.1\n2 0.5 0.5 0.1 0.1\nx 0.5 0.5 0.1 0.1\n1 0.1 0.2 0.3 0.2 0.2 0.6\n0 a 0.5 0.1 0.1\n' },
    names,
    read,
  );
  assert.deepEqual(entry.boxes!.map((b) => [b.label, b.x_min, b.y_min, b.x_max, b.y_max, b.normalized, b.at]), [
    ['person', 0.4, 0.3, 0.6, 0.7, true, 'train/img1.txt:1'],
    ['car', 0.1, 0.2, 0.3, 0.6, true, 'train/img1.txt:7'],
  ]);
  assert.deepEqual(issuesOf(read), [
    ['malformed', 'train/img1.txt:3', 'dropped'],
    ['degenerate', 'train/img1.txt:4', 'dropped'],
    ['unknown_class', 'train/img1.txt:5', 'dropped'],
    ['malformed', 'train/img1.txt:6', 'dropped'],
    ['malformed', 'train/img1.txt:8', 'dropped'],
  ]);
  assert.match(read.issues.list[0].message, /expected "class cx cy w h" \(5 values\) or a class and x y pairs, got 6 values/);
  assert.match(read.issues.list[2].message, /class index 2 is not among the 2 names/);
  assert.deepEqual(readYoloFile({ rel: 'e.txt', text: '' }, names, ctx()), { labels: [], boxes: [] });
});

test('generic CSV with boxes: xyxy or xywh columns, reader column, image-level rows, bad boxes located', () => {
  const read = ctx();
  const csv = 'image,label,x_min,y_min,x_max,y_max,reader\na.png,cat,1,2,11,12,r1\na.png,cat,2,2,12,12,r2\nb.png,,,,,,\nc.png,dog,5,5,5,9,r1\nc.png,dog,5,5,x,9,r1\nd.png,No finding,,,,,\n';
  const t = loadLabelTable(csv, 'auto', {}, 'boxes.csv', read);
  assert.equal(t.format, 'generic');
  const a = t.byKey.get('a.png')!;
  assert.deepEqual(a.labels, []);
  assert.deepEqual(a.boxes!.map((b) => [b.label, b.x_min, b.y_min, b.x_max, b.y_max, b.reader, b.at]), [
    ['cat', 1, 2, 11, 12, 'r1', 'boxes.csv:2'],
    ['cat', 2, 2, 12, 12, 'r2', 'boxes.csv:3'],
  ]);
  assert.deepEqual(t.byKey.get('b.png'), { labels: [] });
  assert.deepEqual(t.byKey.get('d.png'), { labels: ['No finding'] });
  assert.deepEqual(issuesOf(read), [['degenerate', 'boxes.csv:5', 'dropped'], ['malformed', 'boxes.csv:6', 'dropped']]);
  const xywh = loadLabelTable('id,class,x,y,width,height\nq,c,10,20,5,6\n', 'generic', {}, 'w.csv', ctx());
  assert.deepEqual(corners(xywh.byKey.get('q')!.boxes), [[10, 20, 15, 26]]);
  const custom = loadLabelTable('id,cls,l,t,r,b\nq,c,1,2,3,4\n', 'generic', { id_column: 'id', label_column: 'cls', box_columns: ['l', 't', 'r', 'b'], box_format: 'xyxy' }, 'c.csv', ctx());
  assert.deepEqual(corners(custom.byKey.get('q')!.boxes), [[1, 2, 3, 4]]);
  assert.throws(() => loadLabelTable('id,cls\nq,c\n', 'generic', { id_column: 'id', label_column: 'cls', box_columns: ['l', 't', 'r', 'b'] }, 'c.csv', ctx()), /c.csv: no column "l"/);
});

test('resolving boxes against the image: YOLO scaled to pixels, out-of-image clipped / dropped / kept / failed, size mismatch reported', () => {
  const box = (x_min: number, y_min: number, x_max: number, y_max: number, at: string, normalized?: boolean): SourceBox => ({ label: 'c', x_min, y_min, x_max, y_max, at, ...(normalized ? { normalized } : {}) });
  const entry: ImageLabels = {
    labels: ['img-level'],
    boxes: [box(0.4, 0.3, 0.6, 0.7, 'y.txt:1', true), box(-2, 5, 20, 12, 'f:2'), box(150, 0, 160, 10, 'f:3'), box(0, 0, 100, 50, 'f:4')],
    size: { width: 90, height: 50, at: 'f.xml:3' },
  };
  const image = { id: 'img', width: 100, height: 50 };
  const clip = new LabelIssues();
  const r = resolveBoxes(entry, image, clip);
  assert.deepEqual(corners(r.boxes), [[40, 15, 60, 35], [0, 5, 20, 12], [0, 0, 100, 50]]);
  assert.deepEqual(r.labels, ['c', 'img-level']);
  assert.ok(r.boxes.every((b) => !('at' in b) && !('normalized' in b)));
  assert.deepEqual(clip.list.map((i) => [i.kind, i.at, i.action]), [['size_mismatch', 'f.xml:3', 'kept'], ['out_of_image', 'f:2', 'clipped'], ['out_of_image', 'f:3', 'dropped']]);
  assert.equal(clip.list[1].message, 'box [-2, 5, 20, 12] (c) is outside the 100x50 image: clipped');
  const drop = new LabelIssues({ ...DEFAULT_BAD_BOX_POLICY, out_of_image: 'drop' });
  assert.equal(resolveBoxes(entry, image, drop).boxes.length, 2);
  const keep = new LabelIssues({ ...DEFAULT_BAD_BOX_POLICY, out_of_image: 'keep' });
  assert.deepEqual(corners(resolveBoxes(entry, image, keep).boxes)[1], [-2, 5, 20, 12]);
  assert.throws(() => resolveBoxes(entry, image, new LabelIssues({ ...DEFAULT_BAD_BOX_POLICY, out_of_image: 'fail' })), /^Error: f:2: box \[-2, 5, 20, 12\] \(c\) is outside the 100x50 image \(image img\)$/);
  assert.deepEqual(clip.counts, { malformed: 0, degenerate: 0, out_of_image: 2, unknown_class: 0, size_mismatch: 1 });
  assert.deepEqual(clip.actions, { dropped: 1, clipped: 1, kept: 1 });
});
