import type { Box } from '../../data-model.ts';
import type { LabelIssues } from './issues.ts';
import type { ImageLabels, SourceBox } from './types.ts';

/**
 * The boxes of one image once its size is known: normalised (YOLO) boxes scaled to pixels, boxes outside
 * `[0, width] x [0, height]` handled by the `out_of_image` policy (clipped, dropped, kept or an error;
 * a box clipped to nothing is dropped), provenance fields removed. Labels are the image-level labels
 * plus the classes of the kept boxes, sorted. A size stated by the annotation that differs from the
 * image is reported (`size_mismatch`; the boxes are kept as written).
 */
export function resolveBoxes(entry: ImageLabels, image: { id: string; width?: number; height?: number }, issues: LabelIssues): { labels: string[]; boxes: Box[] } {
  const { width, height } = image;
  const known = width !== undefined && height !== undefined && width > 0 && height > 0;
  if (known && entry.size && (entry.size.width !== width || entry.size.height !== height)) {
    issues.report('size_mismatch', entry.size.at, `the annotation says ${entry.size.width}x${entry.size.height} but the image is ${width}x${height}; boxes are used as written`, image.id);
  }
  const boxes: Box[] = [];
  for (const source of entry.boxes ?? []) {
    const box = resolveOne(source, image.id, known ? { width: width!, height: height! } : undefined, issues);
    if (box) boxes.push(box);
  }
  const labels = [...new Set([...entry.labels, ...boxes.map((b) => b.label)])].sort();
  return { labels, boxes };
}

function resolveOne(source: SourceBox, imageId: string, size: { width: number; height: number } | undefined, issues: LabelIssues): Box | undefined {
  const { at, normalized, ...box } = source;
  if (normalized) {
    if (!size) return void issues.report('malformed', at, 'normalised box but the image size is unknown', imageId);
    // Rounded to 1e-6 px: the float noise of centre ± half-size (0.2 + 0.1 = 0.30000000000000004) is not a coordinate.
    box.x_min = micro(box.x_min * size.width);
    box.x_max = micro(box.x_max * size.width);
    box.y_min = micro(box.y_min * size.height);
    box.y_max = micro(box.y_max * size.height);
  }
  if (!size) return box;
  const inside = box.x_min >= 0 && box.y_min >= 0 && box.x_max <= size.width && box.y_max <= size.height;
  if (inside) return box;
  const written = `[${fmt(box.x_min)}, ${fmt(box.y_min)}, ${fmt(box.x_max)}, ${fmt(box.y_max)}]`;
  const rule = issues.rule('out_of_image');
  const message = `box ${written} (${box.label}) is outside the ${size.width}x${size.height} image`;
  if (rule !== 'clip') return issues.report('out_of_image', at, message, imageId) === 'kept' ? box : undefined;
  const clipped = { ...box, x_min: Math.max(0, box.x_min), y_min: Math.max(0, box.y_min), x_max: Math.min(size.width, box.x_max), y_max: Math.min(size.height, box.y_max) };
  const empty = !(clipped.x_max > clipped.x_min && clipped.y_max > clipped.y_min);
  issues.report('out_of_image', at, `${message}: ${empty ? 'nothing left after clipping' : 'clipped'}`, imageId, empty ? 'dropped' : 'clipped');
  return empty ? undefined : clipped;
}

const micro = (v: number) => Math.round(v * 1e6) / 1e6;
const fmt = (v: number) => String(Number(v.toFixed(3)));
