import { parse as parseYaml } from 'yaml';
import { boxNumbers, isDegenerate } from './box-values.ts';
import type { ReadContext } from './read-context.ts';
import type { ImageLabels, SourceBox } from './types.ts';
import type { AnnotationFile } from './voc.ts';
import { errorText } from '../../util/error-text.ts';

/**
 * Class names of a YOLO dataset from an Ultralytics `data.yaml` (`names:` as a list or as `{0: a, 1: b}`)
 * or a `classes.txt` / `obj.names` file (one name per line).
 */
export function parseClassNames(text: string, where: string): string[] {
  if (/\.ya?ml$/i.test(where)) {
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (err) {
      throw new Error(`${where}: not valid YAML: ${errorText(err)}`);
    }
    const names = (doc as { names?: unknown })?.names;
    if (Array.isArray(names) && names.every((n) => typeof n === 'string' || typeof n === 'number')) return names.map(String);
    if (names && typeof names === 'object') {
      const entries = Object.entries(names as Record<string, unknown>).map(([k, v]) => [Number(k), String(v)] as const);
      if (entries.some(([k]) => !Number.isInteger(k) || k < 0)) throw new Error(`${where}: names keys must be class indices 0, 1, ...`);
      const list: string[] = [];
      for (const [k, v] of entries) list[k] = v;
      if (list.some((v) => v === undefined) || list.length !== entries.length) throw new Error(`${where}: names must cover the indices 0..${list.length - 1} without gaps`);
      return list;
    }
    throw new Error(`${where}: no "names" list or mapping`);
  }
  return text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
}

/**
 * One YOLO label file: a line `class cx cy w h` per object, all but the class index normalised to the
 * image size (0..1). The box is `[cx - w/2, cx + w/2)` times the image width (likewise in y), resolved
 * when the image size is known. A line of a class and 3 or more x y pairs (the segmentation format)
 * gives the polygon's bounding box. An empty file is an image without objects. Lines that are not
 * numbers, have another number of values or a class index outside `names` are reported with their
 * line number.
 */
export function readYoloFile(file: AnnotationFile, names: readonly string[], read: ReadContext): ImageLabels {
  const entry: ImageLabels = { labels: [], boxes: [] };
  const image = file.rel.replace(/\.txt$/i, '');
  file.text.split(/\r?\n/).forEach((line, i) => {
    const tokens = line.trim().split(/\s+/).filter(Boolean);
    if (tokens.length === 0) return;
    const at = `${file.rel}:${i + 1}`;
    const polygon = tokens.length >= 7 && tokens.length % 2 === 1;
    if (tokens.length !== 5 && !polygon) return void read.issues.report('malformed', at, `expected "class cx cy w h" (5 values) or a class and x y pairs, got ${tokens.length} values`, image);
    const index = Number(tokens[0]);
    if (!Number.isInteger(index)) return void read.issues.report('malformed', at, `class index "${tokens[0]}" is not an integer`, image);
    const label = names[index];
    if (label === undefined || (read.classes && !read.classes.has(label))) {
      return void read.issues.report('unknown_class', at, `class index ${index}${label ? ` (${label})` : ''} is not ${label ? 'one of the known classes' : `among the ${names.length} names`}`, image);
    }
    const fields = polygon ? tokens.slice(1).map((_, k) => `${k % 2 ? 'y' : 'x'}${Math.floor(k / 2) + 1}`) : ['cx', 'cy', 'w', 'h'];
    const v = boxNumbers(tokens.slice(1), fields, at, read.issues, image);
    if (!v) return;
    let box: [number, number, number, number];
    if (polygon) {
      const xs = v.filter((_, k) => k % 2 === 0);
      const ys = v.filter((_, k) => k % 2 === 1);
      box = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
      if (isDegenerate(box[2] - box[0], box[3] - box[1], 'polygon extent', at, read.issues, image)) return;
    } else {
      const [cx, cy, w, h] = v;
      if (isDegenerate(w, h, `w ${w} h ${h}`, at, read.issues, image)) return;
      box = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
    }
    const out: SourceBox = { label, x_min: box[0], y_min: box[1], x_max: box[2], y_max: box[3], at, normalized: true };
    if (read.reader) out.reader = read.reader;
    entry.boxes!.push(out);
  });
  return entry;
}
