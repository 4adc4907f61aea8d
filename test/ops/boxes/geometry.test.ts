import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Box, ImageGeometry } from '../../../src/data-model.ts';
import { appendGeometry, boxesFromOriginal, boxesToOriginal, geometrySize, toOriginal, transformBoxes } from '../../../src/ops/boxes/transform.ts';
import { fromLetterbox, letterbox, toLetterbox } from '../../../src/ops/boxes/letterbox.ts';
import { applyOps } from '../../../src/ops/image/apply.ts';
import { convertGeometry, scaleBoxes } from '../../../src/stages/convert.ts';
import { invertTtaBoxes, ttaMap } from '../../../src/ml/detection/box-tta.ts';
import { mapRect } from '../../../src/ops/augment/box-augment.ts';
import type { TtaTransform } from '../../../src/ml/tta-transform-schema.ts';

const close = (a: Box, b: Box, tol: number, what: string) => {
  for (const k of ['x_min', 'y_min', 'x_max', 'y_max'] as const) assert.ok(Math.abs(a[k] - b[k]) <= tol, `${what} ${k}: ${a[k]} vs ${b[k]}`);
};

test('geometry round trip: convert resize -> preprocess crop + pad-resize -> letterbox -> hflip / scale TTA and back, exact to 1e-9', async () => {
  // a 517 x 389 DICOM converted to longest side 128 (128 x 96 whole pixels, as convert renders it)
  const source = { sourceWidth: 517, sourceHeight: 389 };
  const converted = { width: 128, height: Math.round((389 * 128) / 517) };
  const original: Box[] = [
    { label: 'Nodule', x_min: 101.25, y_min: 60.5, x_max: 230, y_max: 177.75, reader: 'R9' },
    { label: 'Effusion', x_min: 300, y_min: 200, x_max: 471.5, y_max: 340 },
    { label: 'tiny', x_min: 257, y_min: 193, x_max: 259, y_max: 194 },
  ];
  let geometry: ImageGeometry = convertGeometry(source, converted);
  let boxes = scaleBoxes(original, { width: 517, height: 389 }, converted)!;
  // preprocess on a real image of the converted size: crop 5 % left and 10 % bottom, resize to 200 x 150 (pad), autocrop does nothing on a flat image
  const image = { data: new Uint8Array(converted.width * converted.height).fill(90), width: converted.width, height: converted.height, channels: 1 };
  const ops = await applyOps(image, [
    { crop: { left: 0.05, right: 0, top: 0, bottom: 0.1 } },
    { autocrop: { tolerance: 0 } },
    { resize: { width: 200, height: 150, fit: 'pad', interpolation: 'area', pad_value: 0 } },
  ]);
  assert.deepEqual(ops.steps.map((s) => s.op), ['crop', 'scale']);
  geometry = appendGeometry(geometry, converted, ops.steps);
  boxes = transformBoxes(boxes, ops.steps);
  assert.deepEqual(geometrySize(geometry), { width: ops.image.width, height: ops.image.height });
  assert.equal(boxes.length, 3);
  // boxesFromOriginal is the same forward map (convert's factors multiply before dividing: equal to 1e-12)
  boxesFromOriginal(original, geometry).forEach((b, i) => close(b, boxes[i], 1e-9, 'forward'));

  // the detector: letterbox 200 x 150 into 96 x 96 or a 96 x 64 rectangle, then each TTA transform's map, then the exact inverses
  for (const [w, h] of [[96, 96], [96, 64]]) for (const t of ['identity', 'hflip', 'vflip', { scale: 1.1 }, { scale: 0.8 }, { shift: { x: 0.1, y: -0.05 } }] as TtaTransform[]) {
    const lb = letterbox(ops.image.width, ops.image.height, w, h);
    const m = ttaMap(t, w, h);
    const predicted = boxes.map((b) => {
      const r = mapRect(toLetterbox(b, lb), m);
      return { ...b, ...r };
    });
    const back = boxesToOriginal(invertTtaBoxes(predicted, t, w, h).map((b) => fromLetterbox(b, lb)), geometry);
    assert.equal(back.length, 3);
    back.forEach((b, i) => {
      close(b, original[i], 1e-9, `${w}x${h} ${JSON.stringify(t)} box ${i}`);
      assert.equal(b.label, original[i].label);
      assert.equal(b.reader, original[i].reader);
    });
  }
});

test('toOriginal clips to the image each step was applied to: padding maps to nothing, cropped-off parts stay off', () => {
  // original 100 x 50; crop x 10..90, y 0..50 (80 x 50); pad-resize to 64 x 64: scale .8, content 64 x 40 at top 12
  const geometry: ImageGeometry = { width: 100, height: 50, steps: [{ op: 'crop', x: 10, y: 0, width: 80, height: 50 }, { op: 'scale', sx: 0.8, sy: 0.8, dx: 0, dy: 12, width: 64, height: 64 }] };
  const onPadding = { label: 'a', x_min: 5, y_min: 0, x_max: 20, y_max: 10 };
  assert.equal(toOriginal(onPadding, geometry), undefined);
  // half on padding: its content part only
  assert.deepEqual(toOriginal({ label: 'b', x_min: 8, y_min: 4, x_max: 16, y_max: 20 }, geometry), { label: 'b', x_min: 20, y_min: 0, x_max: 30, y_max: 10 });
  // no geometry or no steps: unchanged
  const box = { label: 'c', x_min: 1, y_min: 2, x_max: 3, y_max: 4 };
  assert.deepEqual(boxesToOriginal([box], undefined), [box]);
  assert.deepEqual(boxesToOriginal([box], { width: 10, height: 10, steps: [] }), [box]);
  assert.deepEqual(boxesToOriginal([onPadding, { label: 'd', x_min: 8, y_min: 20, x_max: 16, y_max: 30 }], geometry), [{ label: 'd', x_min: 20, y_min: 10, x_max: 30, y_max: 22.5 }]);
});

test('appendGeometry keeps the original size; a row without one starts at its own size', () => {
  const steps = [{ op: 'crop' as const, x: 1, y: 2, width: 3, height: 4 }];
  assert.deepEqual(appendGeometry(undefined, { width: 30, height: 20 }, steps), { width: 30, height: 20, steps });
  const g = appendGeometry({ width: 300, height: 200, steps: [{ op: 'scale', sx: 0.1, sy: 0.1, dx: 0, dy: 0, width: 30, height: 20 }] }, { width: 30, height: 20 }, steps);
  assert.deepEqual([g.width, g.height, g.steps.length], [300, 200, 2]);
  assert.deepEqual(convertGeometry({ sourceWidth: 64, sourceHeight: 64 }, { width: 64, height: 64 }), { width: 64, height: 64, steps: [] });
});
