/**
 * Signed JPEG 2000 samples of 8 bits or fewer. The OpenJPEG wasm build returns them in an 8-bit buffer
 * clamped at 0, so every negative value comes back as 0. Declared unsigned in the SIZ marker instead, the
 * same codestream decodes to value + 2^(P-1) (the DC level shift, T.800 G.1.2), which fits the buffer;
 * subtracting the shift gives the signed values back exactly, for lossless and lossy streams alike (both
 * clamp to the same range, shifted).
 */

const SOC = 0xff4f;
const SIZ = 0xff51;
/** From the SIZ marker to its first component's Ssiz byte: marker, Lsiz, Rsiz, 8 x 32-bit sizes, Csiz. */
const FIRST_SSIZ = 2 + 2 + 2 + 32 + 2;

export interface UnsignedView {
  /** A copy of the codestream with every 8-bit-or-less signed component declared unsigned. */
  stream: Uint8Array;
  /** Per component: the shift to subtract from its decoded samples (0: component left as it was). */
  shifts: number[];
}

/** The codestream with its small signed components declared unsigned, or undefined when it has none. */
export function smallSignedAsUnsigned(stream: Uint8Array): UnsignedView | undefined {
  const siz = sizOffset(stream);
  if (siz === undefined || siz + FIRST_SSIZ > stream.length) return undefined;
  const components = (stream[siz + FIRST_SSIZ - 2] << 8) | stream[siz + FIRST_SSIZ - 1];
  if (siz + FIRST_SSIZ + 3 * components > stream.length) return undefined;
  const shifts: number[] = [];
  let copy: Uint8Array | undefined;
  for (let c = 0; c < components; c++) {
    const at = siz + FIRST_SSIZ + 3 * c;
    const ssiz = stream[at];
    const precision = (ssiz & 0x7f) + 1;
    if (ssiz & 0x80 && precision <= 8) {
      copy ??= new Uint8Array(stream); // a copy: stream may be a Buffer, whose slice() shares the file's bytes
      copy[at] = ssiz & 0x7f;
      shifts.push(2 ** (precision - 1));
    } else {
      shifts.push(0);
    }
  }
  return copy ? { stream: copy, shifts } : undefined;
}

/** Undoes the shift in place: interleaved 8-bit samples back to two's complement. */
export function unshiftSamples(bytes: Uint8Array, shifts: number[]): Uint8Array {
  const n = shifts.length;
  for (let i = 0; i < bytes.length; i++) {
    const shift = shifts[i % n];
    if (shift) bytes[i] = (bytes[i] - shift) & 0xff;
  }
  return bytes;
}

/** Offset of the SIZ marker: right after SOC in a raw codestream (what DICOM holds), else after the first SOC. */
function sizOffset(stream: Uint8Array): number | undefined {
  const limit = Math.min(stream.length - 3, 4096); // a JP2 wrapper puts its header boxes before the codestream
  for (let i = 0; i < limit; i++) {
    if (((stream[i] << 8) | stream[i + 1]) === SOC && ((stream[i + 2] << 8) | stream[i + 3]) === SIZ) return i + 2;
  }
  return undefined;
}
