import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Box } from '../../../src/data-model.ts';
import { composite, mapRect, mosaicPlacements, randomPlacement, type Placement, type Raster } from '../../../src/ops/augment/box-augment.ts';
import { invertTtaBoxes, transformRaster, ttaMap } from '../../../src/ml/detection/box-tta.ts';
import { seededRandom } from '../../../src/util/random.ts';

/** An image whose pixel value is 1 + the index of the box covering it (0 elsewhere), with its boxes on whole pixels. */
function labelled(size: number, random: () => number, offset: number): { image: Raster; boxes: Box[] } {
  const data = new Float32Array(size * size);
  const boxes: Box[] = [];
  for (let k = 0; k < 3; k++) {
    const w = 3 + Math.floor(random() * 10), h = 3 + Math.floor(random() * 10);
    const x = Math.floor(random() * (size - w)), y = Math.floor(random() * (size - h));
    if (boxes.some((b) => b.x_min < x + w && x < b.x_max && b.y_min < y + h && y < b.y_max)) continue;
    boxes.push({ label: String(offset + boxes.length + 1), x_min: x, y_min: y, x_max: x + w, y_max: y + h });
    for (let yy = y; yy < y + h; yy++) for (let xx = x; xx < x + w; xx++) data[yy * size + xx] = offset + boxes.length;
  }
  return { image: { data, width: size, height: size, channels: 1 }, boxes };
}

/** Every output box covers exactly the output pixels that show its source box's pixels (pixel centres inside the box). */
function assertCoversSamePixels(out: { image: Raster; boxes: Box[] }, what: string) {
  const { data, width, height } = out.image;
  for (const b of out.boxes) {
    const id = Number(b.label);
    for (let v = 0; v < height; v++) {
      for (let u = 0; u < width; u++) {
        const inside = u + 0.5 > b.x_min && u + 0.5 < b.x_max && v + 0.5 > b.y_min && v + 0.5 < b.y_max;
        assert.equal(data[v * width + u] === id, inside, `${what}: box ${id} [${b.x_min}, ${b.x_max}) x [${b.y_min}, ${b.y_max}) at pixel ${u},${v}`);
      }
    }
  }
}

test('flip / scale / translate: every moved box covers exactly the pixels of its source box', () => {
  const random = seededRandom(5);
  let checked = 0;
  for (let trial = 0; trial < 30; trial++) {
    const src = labelled(32, random, 0);
    // scales that keep pixel centres off the box edges (at half scale a centre can sit on an edge: see the mosaic test)
    const s = [1, 2, 3][trial % 3];
    const fx = trial % 2 ? -1 : 1, fy = trial % 4 < 2 ? 1 : -1;
    const placement: Placement = { ...src, sx: s * fx, sy: s * fy, tx: fx < 0 ? 32 * s + Math.floor(random() * 8) - 4 : Math.floor(random() * 8) - 4, ty: fy < 0 ? 32 * s - 3 : 2 };
    const out = composite(32, 32, 1, [placement], { sampling: 'nearest', minVisible: 0 });
    assertCoversSamePixels(out, `trial ${trial}`);
    checked += out.boxes.length;
  }
  assert.ok(checked > 40, `${checked} boxes checked`);
});

test('mosaic: four images at half scale around a random centre; each box covers the same pixels, cut at its quadrant', () => {
  const random = seededRandom(9);
  for (let trial = 0; trial < 10; trial++) {
    const parts = [0, 10, 20, 30].map((offset) => labelled(32, random, offset));
    const placements = mosaicPlacements(parts, 32, () => [0, 0.5, 1][trial % 3] * 0.999 + 0.0005); // centre at whole pixels, even offsets
    const out = composite(32, 32, 1, placements, { sampling: 'nearest', minVisible: 0 });
    // half scale of even-sized boxes at even offsets: edges on whole pixels
    assertCoversSamePixels({ image: out.image, boxes: out.boxes.filter((b) => Number.isInteger(b.x_min) && Number.isInteger(b.x_max) && Number.isInteger(b.y_min) && Number.isInteger(b.y_max)) }, `mosaic ${trial}`);
    // every box is inside its quadrant
    for (const [k, p] of placements.entries()) for (const b of out.boxes.filter((b) => Math.floor((Number(b.label) - 1) / 10) === k)) assert.ok(b.x_min >= p.clip!.x0 && b.x_max <= p.clip!.x1 && b.y_min >= p.clip!.y0 && b.y_max <= p.clip!.y1);
  }
  // random placements stay in range and move boxes with the same map as the pixels
  const r = seededRandom(1);
  const src = labelled(32, r, 0);
  const p = randomPlacement(src.image, src.boxes, { hflip: 1, vflip: 0, scale: 0.25, translate: 0.1, mosaic: 0 }, r);
  assert.ok(p.sx < 0 && p.sy > 0);
  const out = composite(32, 32, 1, [p], { minVisible: 0 });
  for (const b of out.boxes) {
    const source = src.boxes.find((s) => s.label === b.label)!;
    const moved = mapRect(source, p);
    assert.ok(b.x_min >= moved.x_min - 1e-9 && b.x_max <= moved.x_max + 1e-9);
  }
});

test('box TTA: each transform\'s inverse maps boxes back exactly; flips and shifts move pixels exactly', () => {
  const size = 32;
  const random = seededRandom(3);
  const src = labelled(size, random, 0);
  for (const t of ['identity', 'hflip', 'vflip', { shift: { x: 0.125, y: -0.25 } }, { scale: 1.25 }, { scale: 0.8 }] as const) {
    const moved = src.boxes.map((b) => ({ ...b, ...mapRect(b, ttaMap(t, size)) }));
    const back = invertTtaBoxes(moved, t, size);
    for (const [i, b] of back.entries()) for (const k of ['x_min', 'y_min', 'x_max', 'y_max'] as const) assert.ok(Math.abs(b[k] - src.boxes[i][k]) < 1e-9, `${JSON.stringify(t)} ${k}`);
    if (typeof t === 'string' || 'shift' in t) {
      // pixel centres land on pixel centres: bilinear sampling is exact, so the moved boxes cover their pixels
      const image = transformRaster(src.image, t);
      const visible = composite(size, size, 1, [{ ...src, ...ttaMap(t, size) }], { sampling: 'nearest', minVisible: 0 });
      assert.deepEqual(Array.from(image.data), Array.from(visible.image.data));
      assertCoversSamePixels({ image, boxes: visible.boxes }, JSON.stringify(t));
    }
  }
});
