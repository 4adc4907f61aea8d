import sharp from 'sharp';
import type { DatasetRow } from '../../src/data-model.ts';
import type { Store } from '../../src/store/store.ts';
import { seededRandom } from '../../src/util/random.ts';

/**
 * Synthetic multi-label chest-like images: noise background; finding "A" = a bright blob in the upper
 * left, "B" = one in the lower right; neither -> "No finding". Rows carry folds 0..k-1.
 */
export async function syntheticDataset(store: Store, n: number, size: number, k: number, seed = 1): Promise<{ rows: DatasetRow[]; classes: string[] }> {
  const random = seededRandom(seed);
  const rows: DatasetRow[] = [];
  for (let i = 0; i < n; i++) {
    const a = random() < 0.4, b = random() < 0.4;
    const pixels = Buffer.alloc(size * size);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        let v = 60 + random() * 60;
        const blob = (cx: number, cy: number) => Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * (size / 8) ** 2));
        if (a) v += 120 * blob(size * 0.3, size * 0.3);
        if (b) v += 120 * blob(size * 0.7, size * 0.7);
        pixels[y * size + x] = Math.min(255, Math.round(v));
      }
    }
    const image = await store.putBlob(await sharp(pixels, { raw: { width: size, height: size, channels: 1 } }).png().toBuffer());
    const labels = [...(a ? ['A'] : []), ...(b ? ['B'] : [])];
    rows.push({ id: `img${i}`, patient: `p${i}`, labels: labels.length ? labels : ['No finding'], image, width: size, height: size, fold: i % k, split: 'train' });
  }
  return { rows, classes: ['A', 'B', 'No finding'] };
}
