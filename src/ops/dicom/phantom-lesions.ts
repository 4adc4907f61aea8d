/**
 * Lesions for detection demos: uniform bright discs in the lungs whose bounding boxes are exact, i.e. the
 * tightest box (continuous pixel edges) around every pixel the disc reaches in the phantom's rendering.
 */

/** What each lesion class looks like (radius as a fraction of the image side) and its VinBigData class id. */
export const LESION_KINDS = {
  'Nodule/Mass': { classId: 8, radius: [0.035, 0.07], amplitude: 0.4 },
  Calcification: { classId: 2, radius: [0.012, 0.025], amplitude: 0.75 },
} as const;
export type LesionKind = keyof typeof LESION_KINDS;

export interface LesionOptions {
  /** Lesions per image: 0..max, uniformly (0 = "No finding"). */
  max: number;
  classes: readonly LesionKind[];
  /** Readers boxing each lesion (1-3). */
  readers: number;
  /** Reader jitter as a fraction of the box size (0 = every reader writes the exact box). */
  jitter: number;
}

/** A disc in unit coordinates (0..1 of the image side). */
export interface Lesion {
  label: LesionKind;
  cx: number;
  cy: number;
  r: number;
  amplitude: number;
}

interface Ellipse {
  cx: number;
  cy: number;
  rx: number;
  ry: number;
}

/**
 * 0..max non-overlapping lesions inside the lungs (each disc fully inside a lung ellipse, at least 2 px
 * apart), at least 1.5 px in radius.
 */
export function placeLesions(rand: () => number, lungs: readonly Ellipse[], size: number, options: LesionOptions): Lesion[] {
  const count = Math.floor(rand() * (options.max + 1));
  const out: Lesion[] = [];
  for (let k = 0; k < count; k++) {
    const label = options.classes[Math.floor(rand() * options.classes.length)];
    const kind = LESION_KINDS[label];
    const r = Math.max(1.5 / size, kind.radius[0] + rand() * (kind.radius[1] - kind.radius[0]));
    for (let attempt = 0; attempt < 30; attempt++) {
      const lung = lungs[Math.floor(rand() * lungs.length)];
      const angle = rand() * 2 * Math.PI;
      const dist = Math.sqrt(rand()) * 0.85;
      const cx = lung.cx + Math.cos(angle) * dist * (lung.rx - r);
      const cy = lung.cy + Math.sin(angle) * dist * (lung.ry - r);
      if (lung.rx <= r || lung.ry <= r) break;
      if (out.some((o) => Math.hypot(o.cx - cx, o.cy - cy) < o.r + r + 2 / size)) continue;
      out.push({ label, cx, cy, r, amplitude: kind.amplitude });
      break;
    }
  }
  return out;
}

/** The summed amplitude of the lesions covering unit point (x, y). */
export function lesionAttenuation(lesions: readonly Lesion[], x: number, y: number): number {
  let a = 0;
  for (const l of lesions) if ((x - l.cx) ** 2 + (y - l.cy) ** 2 <= l.r * l.r) a += l.amplitude;
  return a;
}

/**
 * The exact box of a lesion in a `size` x `size` rendering that samples each pixel at `subsamples`
 * (offsets in pixels): pixel (x, y) shows the lesion when one of its sample points is in the disc; the
 * box is [min x, max x + 1) x [min y, max y + 1) over those pixels. Undefined when no pixel shows it.
 */
export function lesionBox(l: Lesion, size: number, subsamples: ReadonlyArray<readonly [number, number]>): { x_min: number; y_min: number; x_max: number; y_max: number } | undefined {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  const lo = (v: number) => Math.max(0, Math.floor((v - l.r) * size) - 1);
  const hi = (v: number) => Math.min(size - 1, Math.ceil((v + l.r) * size) + 1);
  for (let y = lo(l.cy); y <= hi(l.cy); y++) {
    for (let x = lo(l.cx); x <= hi(l.cx); x++) {
      if (!subsamples.some(([dx, dy]) => lesionAttenuation([l], (x + dx) / size, (y + dy) / size) > 0)) continue;
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x);
      y1 = Math.max(y1, y);
    }
  }
  return x1 < x0 ? undefined : { x_min: x0, y_min: y0, x_max: x1 + 1, y_max: y1 + 1 };
}
