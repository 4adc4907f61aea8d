/** Random geometric/photometric augmentation ranges, with Keras ImageDataGenerator semantics. */
export interface AugmentRanges {
  /** Degrees: angle uniform in [-rotation, rotation]. */
  rotation: number;
  /** Fractions of the width/height: shift uniform in [-f, f] * size. */
  width_shift: number;
  height_shift: number;
  /** Degrees: shear angle uniform in [-shear, shear]. */
  shear: number;
  /** Zoom factor uniform in [1 - zoom, 1 + zoom], independently for x and y. */
  zoom: number;
  /** Mirror left-right with probability 0.5. */
  hflip: boolean;
  vflip: boolean;
  /** Brightness factor uniform in [lo, hi]. */
  brightness: [number, number];
}

export interface SampledAugment {
  /** tf.image.transform's 8 projective coefficients mapping OUTPUT pixel (x, y) to the INPUT pixel it samples. */
  transform: number[];
  brightness: number;
}

const uniform = (random: () => number, lo: number, hi: number) => lo + (hi - lo) * random();

/**
 * Samples one image's augmentation. The forward map (input -> output) is, about the image centre,
 * flip, zoom, shear, rotation, then a shift; tf.image.transform needs its inverse, computed here in closed form.
 */
export function sampleAugment(r: AugmentRanges, width: number, height: number, random: () => number): SampledAugment {
  const theta = (uniform(random, -r.rotation, r.rotation) * Math.PI) / 180;
  const shear = (uniform(random, -r.shear, r.shear) * Math.PI) / 180;
  const zx = r.zoom ? uniform(random, 1 - r.zoom, 1 + r.zoom) : 1;
  const zy = r.zoom ? uniform(random, 1 - r.zoom, 1 + r.zoom) : 1;
  const fx = r.hflip && random() < 0.5 ? -1 : 1;
  const fy = r.vflip && random() < 0.5 ? -1 : 1;
  const tx = uniform(random, -r.width_shift, r.width_shift) * width;
  const ty = uniform(random, -r.height_shift, r.height_shift) * height;
  const brightness = uniform(random, r.brightness[0], r.brightness[1]);
  return { transform: inverseAffine(theta, shear, zx * fx, zy * fy, tx, ty, width, height), brightness };
}

/**
 * Output->input coefficients of out = R(theta) Sh(shear) diag(sx, sy) (in - c) + c + t, c the pixel centre
 * ((w-1)/2, (h-1)/2), Sh = [[1, -sin(shear)], [0, cos(shear)]] (Keras' shear matrix).
 */
export function inverseAffine(theta: number, shear: number, sx: number, sy: number, tx: number, ty: number, width: number, height: number): number[] {
  const cos = Math.cos(theta), sin = Math.sin(theta);
  const shs = -Math.sin(shear), shc = Math.cos(shear);
  // L = R * Sh * S
  const a = cos * sx, b = (cos * shs - sin * shc) * sy;
  const c = sin * sx, d = (sin * shs + cos * shc) * sy;
  const det = a * d - b * c;
  const ia = d / det, ib = -b / det, ic = -c / det, id = a / det;
  const cx = (width - 1) / 2, cy = (height - 1) / 2;
  // in = Linv (out - c - t) + c
  const ox = cx - (ia * (cx + tx) + ib * (cy + ty));
  const oy = cy - (ic * (cx + tx) + id * (cy + ty));
  return [ia, ib, ox, ic, id, oy, 0, 0];
}
