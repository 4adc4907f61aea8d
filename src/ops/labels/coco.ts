import { boxNumbers, isDegenerate } from './box-values.ts';
import type { ReadContext } from './read-context.ts';
import type { ImageLabels, SourceBox } from './types.ts';
import { errorText } from '../../util/error-text.ts';

export interface CocoLabels {
  /** Labels per image `file_name` as written in the JSON (a path relative to the image folder). */
  byFileName: Map<string, ImageLabels>;
  /** Category names in the order of their ids. */
  classes: string[];
}

/**
 * COCO object-detection JSON (`images`, `annotations`, `categories`). `bbox` is `[x, y, width, height]`
 * in continuous pixels (COCO's own convention), so the box is `[x, x + width) x [y, y + height)`.
 * `iscrowd: 1` regions become `difficult` boxes (ignored by evaluation). Every image listed gets an
 * entry, so images without annotations count as labelled negatives. Annotations naming an unknown image
 * are `malformed`, unknown categories `unknown_class`, zero-size boxes `degenerate` (located by the
 * annotation's index and id).
 */
export function readCoco(text: string, where: string, read: ReadContext): CocoLabels {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${where}: not valid JSON: ${errorText(err)}`);
  }
  const doc = json as { images?: unknown; annotations?: unknown; categories?: unknown };
  for (const key of ['images', 'annotations', 'categories'] as const) {
    if (!Array.isArray(doc?.[key])) throw new Error(`${where}: no "${key}" list (a COCO detection file has images, annotations and categories)`);
  }
  const categories = new Map<unknown, string>();
  (doc.categories as Array<{ id?: unknown; name?: unknown }>).forEach((c, k) => {
    if (c?.id === undefined || typeof c.name !== 'string') throw new Error(`${where}: categories[${k}] needs an id and a name`);
    categories.set(c.id, c.name);
  });
  const byImageId = new Map<unknown, { fileName: string; entry: ImageLabels }>();
  const byFileName = new Map<string, ImageLabels>();
  (doc.images as Array<{ id?: unknown; file_name?: unknown; width?: unknown; height?: unknown }>).forEach((im, k) => {
    if (im?.id === undefined || typeof im.file_name !== 'string') throw new Error(`${where}: images[${k}] needs an id and a file_name`);
    const entry: ImageLabels = { labels: [], boxes: [] };
    if (typeof im.width === 'number' && typeof im.height === 'number' && im.width > 0 && im.height > 0) entry.size = { width: im.width, height: im.height, at: `${where} images[${k}]` };
    byImageId.set(im.id, { fileName: im.file_name, entry });
    byFileName.set(im.file_name, entry);
  });
  const known = read.classes;
  (doc.annotations as Array<{ id?: unknown; image_id?: unknown; category_id?: unknown; bbox?: unknown; iscrowd?: unknown }>).forEach((a, k) => {
    const at = `${where} annotations[${k}]${a?.id !== undefined ? ` (id ${a.id})` : ''}`;
    const image = byImageId.get(a?.image_id);
    if (!image) return void read.issues.report('malformed', at, `image_id ${JSON.stringify(a?.image_id ?? null)} is not in images`);
    const label = categories.get(a.category_id);
    if (label === undefined || (known && !known.has(label))) {
      return void read.issues.report('unknown_class', at, `category ${JSON.stringify(a.category_id ?? null)}${label ? ` (${label})` : ''} is not ${label ? 'one of the known classes' : 'in categories'}`, image.fileName);
    }
    const raw = Array.isArray(a.bbox) && a.bbox.length === 4 ? (a.bbox as Array<number | string>) : undefined;
    if (!raw) return void read.issues.report('malformed', at, `bbox ${JSON.stringify(a.bbox ?? null)} is not [x, y, width, height]`, image.fileName);
    const v = boxNumbers(raw, ['x', 'y', 'width', 'height'], at, read.issues, image.fileName);
    if (!v || isDegenerate(v[2], v[3], `width ${v[2]} height ${v[3]}`, at, read.issues, image.fileName)) return;
    const box: SourceBox = { label, x_min: v[0], y_min: v[1], x_max: v[0] + v[2], y_max: v[1] + v[3], at };
    if (read.reader) box.reader = read.reader;
    if (a.iscrowd === 1 || a.iscrowd === true) box.difficult = true;
    image.entry.boxes!.push(box);
  });
  const classes = [...categories.entries()].sort((a, b) => (typeof a[0] === 'number' && typeof b[0] === 'number' ? a[0] - b[0] : String(a[0]).localeCompare(String(b[0])))).map(([, name]) => name);
  return { byFileName, classes };
}
