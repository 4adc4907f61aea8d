import { boxNumbers, isDegenerate, isUnknownClass } from './box-values.ts';
import type { ReadContext } from './read-context.ts';
import type { ImageLabels, SourceBox } from './types.ts';
import { childElement, childText, parseXml, XmlSyntaxError } from './xml.ts';

/** One annotation file: its path relative to the annotation folder and its text. */
export interface AnnotationFile {
  rel: string;
  text: string;
}

/**
 * Pascal VOC XML (one `<annotation>` per image, as LabelImg/CVAT/Roboflow write it). Each `<object>`
 * gives `name`, `bndbox` and optionally `difficult`. VOC pixels are 1-based and inclusive, so
 * `xmin..xmax` covers pixels `xmin-1 .. xmax-1` in 0-based terms: the box becomes `[xmin - 1, xmax)`
 * in continuous edges (`x_min = xmin - 1`, `x_max = xmax`). A box with `xmax <= xmin` or `ymax <= ymin`
 * as written is degenerate (a click without a drag). `<size>` is kept to check against the image.
 * A file that is not well-formed XML or has no `<annotation>` root is reported (`malformed`, with its
 * line and column) and its image stays unlabelled. Returns labels keyed by the file's path without
 * `.xml` relative to the folder.
 */
export function readVocFile(file: AnnotationFile, read: ReadContext): ImageLabels | undefined {
  let root;
  try {
    root = parseXml(file.text);
  } catch (err) {
    if (!(err instanceof XmlSyntaxError)) throw err;
    read.issues.report('malformed', `${file.rel}:${err.line}:${err.column}`, `not well-formed XML: ${err.message.replace(/^line \d+, column \d+: /, '')}; the file is skipped`);
    return undefined;
  }
  if (root.name !== 'annotation') {
    read.issues.report('malformed', `${file.rel}:${root.line}`, `root element is <${root.name}>, not <annotation>; the file is skipped`);
    return undefined;
  }
  const entry: ImageLabels = { labels: [], boxes: [] };
  const size = childElement(root, 'size');
  if (size) {
    const width = Number(childText(size, 'width'));
    const height = Number(childText(size, 'height'));
    if (width > 0 && height > 0) entry.size = { width, height, at: `${file.rel}:${size.line}` };
  }
  const image = file.rel.replace(/\.xml$/i, '');
  root.children
    .filter((c) => c.name === 'object')
    .forEach((object, k) => {
      const at = `${file.rel}:${object.line} (object ${k + 1})`;
      const name = childText(object, 'name');
      if (!name) return void read.issues.report('malformed', at, 'object without a <name>', image);
      if (isUnknownClass(name, read.classes, at, read.issues, image)) return;
      const bndbox = childElement(object, 'bndbox');
      if (!bndbox) return void read.issues.report('malformed', at, `object "${name}" without a <bndbox>`, image);
      const names = ['xmin', 'ymin', 'xmax', 'ymax'];
      const v = boxNumbers(names.map((n) => childText(bndbox, n)), names, at, read.issues, image);
      if (!v) return;
      if (isDegenerate(v[2] - v[0], v[3] - v[1], `xmin ${v[0]} xmax ${v[2]} ymin ${v[1]} ymax ${v[3]}`, at, read.issues, image)) return;
      const box: SourceBox = { label: name, x_min: v[0] - 1, y_min: v[1] - 1, x_max: v[2], y_max: v[3], at };
      if (read.reader) box.reader = read.reader;
      if (childText(object, 'difficult') === '1') box.difficult = true;
      entry.boxes!.push(box);
    });
  return entry;
}
