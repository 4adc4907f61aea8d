import sharp from 'sharp';
import type { Box, DatasetRow } from '../../src/data-model.ts';
import type { Store } from '../../src/store/store.ts';
import { seededRandom } from '../../src/util/random.ts';

/**
 * Synthetic detection images (`width` x `height`, grey, noisy background 100-140): 1-3 squares of 10-22
 * pixels per image, class "bright" (value 230) or "dark" (value 10), not overlapping; boxes are their exact
 * pixel extents (continuous edges). Rows carry folds 0..k-1 and split train.
 */
export async function syntheticDetectionDataset(store: Store, n: number, width: number, height: number, k: number, seed = 1): Promise<DatasetRow[]> {
  const random = seededRandom(seed);
  const rows: DatasetRow[] = [];
  for (let i = 0; i < n; i++) {
    const pixels = Buffer.alloc(width * height);
    for (let p = 0; p < pixels.length; p++) pixels[p] = 100 + Math.floor(random() * 40);
    const boxes: Box[] = [];
    const count = 1 + Math.floor(random() * 3);
    for (let tries = 0; boxes.length < count && tries < 50; tries++) {
      const side = 10 + Math.floor(random() * 13);
      const x = Math.floor(random() * (width - side)), y = Math.floor(random() * (height - side));
      const box = { x_min: x, y_min: y, x_max: x + side, y_max: y + side };
      if (boxes.some((b) => b.x_min < box.x_max + 2 && box.x_min < b.x_max + 2 && b.y_min < box.y_max + 2 && box.y_min < b.y_max + 2)) continue;
      const label = random() < 0.5 ? 'bright' : 'dark';
      for (let yy = y; yy < y + side; yy++) for (let xx = x; xx < x + side; xx++) pixels[yy * width + xx] = label === 'bright' ? 230 : 10;
      boxes.push({ label, ...box });
    }
    const image = await store.putBlob(await sharp(pixels, { raw: { width, height, channels: 1 } }).png().toBuffer());
    rows.push({ id: `img${i}`, patient: `p${i}`, labels: [...new Set(boxes.map((b) => b.label))].sort(), boxes, image, width, height, fold: i % k, split: 'train' });
  }
  return rows;
}
