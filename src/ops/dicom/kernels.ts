/**
 * Per-pixel loops, kept apart from the code that chooses their parameters. Each takes only typed arrays
 * and numbers and does nothing after its loop: V8 optimises such a loop on-stack (OSR) while it runs and
 * never has to deoptimise it for an object shape or a code path it has not seen, which otherwise left a
 * 4-megapixel loop in the interpreter for 1-2 s on a loaded machine.
 */

/** Samples: raw 8/16-bit words, or values (Int32Array; Float64Array for 32-bit integers and floating point). */
export type Words = Uint8Array | Uint16Array | Int32Array | Float64Array;

/** out[i] = (raw[i] >>> shift) & mask, two's complement from `signBit` when `signed` is 1. */
export function maskSamples(raw: Uint8Array | Uint16Array, out: Int32Array, count: number, shift: number, mask: number, signBit: number, wrap: number, signed: number): void {
  if (signed === 1) {
    for (let i = 0; i < count; i++) {
      const v = (raw[i] >>> shift) & mask;
      out[i] = v >= signBit ? v - wrap : v;
    }
  } else {
    for (let i = 0; i < count; i++) out[i] = (raw[i] >>> shift) & mask;
  }
}

/** Writes [min, max] of `values` into `range` (Infinity, -Infinity when empty). */
export function minMaxInto(values: Words, range: Float64Array): void {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  range[0] = min;
  range[1] = max;
}

/** hist[v - offset]++ for every value (integers only). */
export function histogramInto(values: Words, offset: number, hist: Uint32Array): void {
  for (let i = 0; i < values.length; i++) hist[values[i] - offset]++;
}

/** out[i] = table[values[i] - offset] (integers only). */
export function lookupInto(values: Words, offset: number, table: Uint8Array | Uint16Array, out: Uint8Array | Uint16Array): void {
  for (let i = 0; i < values.length; i++) out[i] = table[values[i] - offset];
}

/** out[i] = f(values[i]), for values too spread out or not integers (no table). */
export function mapInto(values: Words, f: (v: number) => number, out: Uint8Array | Uint16Array): void {
  for (let i = 0; i < values.length; i++) out[i] = f(values[i]);
}
