import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderDicom } from '../../../src/ops/dicom/convert.ts';
import { writeDicom, type DicomImageSpec, type TransferSyntaxName } from '../../../src/ops/dicom/write.ts';
import { compareImages, pydicomRender } from './pydicom-render.ts';
import { needs } from '../../support/reference-tools.ts';

const ROWS = 17;
const COLS = 24; // not square, so a transposed decode cannot pass

interface Case {
  name: string;
  spec: DicomImageSpec;
}

/** Every transfer syntax, bit depth, signedness and photometric the writer claims, with the VOI variants. */
function cases(): Case[] {
  const syntaxes: TransferSyntaxName[] = ['implicit-le', 'explicit-le', 'explicit-be', 'deflate', 'rle'];
  const depths = [
    { bitsAllocated: 8 as const, bitsStored: 8, pixelRepresentation: 0 as const },
    { bitsAllocated: 16 as const, bitsStored: 10, pixelRepresentation: 0 as const },
    { bitsAllocated: 16 as const, bitsStored: 12, pixelRepresentation: 0 as const },
    { bitsAllocated: 16 as const, bitsStored: 12, pixelRepresentation: 1 as const },
    { bitsAllocated: 16 as const, bitsStored: 16, pixelRepresentation: 0 as const },
    { bitsAllocated: 16 as const, bitsStored: 16, pixelRepresentation: 1 as const },
  ];
  const voiVariants = ['minmax', 'linear', 'linear-exact', 'sigmoid', 'voi-lut', 'two-windows'] as const;
  const out: Case[] = [];
  let k = 0;
  for (const syntax of syntaxes) {
    for (const d of depths) {
      for (const photometric of ['MONOCHROME1', 'MONOCHROME2'] as const) {
        const variant = voiVariants[k % voiVariants.length];
        const rescale = k % 3 === 1 ? { slope: 2, intercept: -1024 } : k % 3 === 2 ? { slope: 0.5, intercept: 10 } : undefined;
        k++;
        const signed = d.pixelRepresentation === 1;
        const lo = signed ? -(2 ** (d.bitsStored - 1)) : 0;
        const hi = signed ? 2 ** (d.bitsStored - 1) - 1 : 2 ** d.bitsStored - 1;
        // A smooth ramp over most of the range, a flat band, and both extremes.
        const values = Array.from({ length: ROWS * COLS }, (_, i) => (i % 13 < 3 ? lo + Math.floor((hi - lo) / 3) : lo + Math.floor(((hi - lo) * ((i * 37) % 997)) / 996)));
        values[0] = lo;
        values[1] = hi;
        const pixels = d.bitsAllocated === 8 ? Uint8Array.from(values) : signed ? Int16Array.from(values) : Uint16Array.from(values);
        const slope = rescale?.slope ?? 1;
        const intercept = rescale?.intercept ?? 0;
        const mLo = lo * slope + intercept;
        const mHi = hi * slope + intercept;
        const center = Math.round((mLo + mHi) / 2);
        const width = Math.max(2, Math.round((mHi - mLo) / 2));
        const spec: DicomImageSpec = { rows: ROWS, columns: COLS, pixels, ...d, photometric, transferSyntax: syntax, rescale };
        if (variant === 'linear') spec.window = { center, width };
        if (variant === 'linear-exact') Object.assign(spec, { window: { center, width }, voiLutFunction: 'LINEAR_EXACT' });
        if (variant === 'sigmoid') Object.assign(spec, { window: { center, width }, voiLutFunction: 'SIGMOID' });
        if (variant === 'two-windows') spec.window = { center: [center + width / 4, center], width: [width / 2, width] };
        if (variant === 'voi-lut') {
          spec.rescale = undefined; // a VOI LUT indexes integer modality values
          spec.voiLut = { firstMapped: lo + Math.floor((hi - lo) / 4), bits: 12, data: Array.from({ length: 256 }, (_, i) => i * 16) };
          spec.window = { center, width }; // present too: the LUT must win, as in pydicom
        }
        out.push({ name: `${syntax} ${d.bitsAllocated}/${d.bitsStored}${signed ? 's' : 'u'} ${photometric} ${variant}${spec.rescale ? ` rescale ${slope}/${intercept}` : ''}`, spec });
      }
    }
  }
  // Grey levels landing exactly on .5, where rounding half up and numpy's half to even differ: min-max over
  // [0, 510] (odd values give v / 2), and a LINEAR_EXACT window of width 510 over 8 bits.
  const n = ROWS * COLS;
  out.push({ name: 'rounding ties: min-max over [0, 510]', spec: { rows: ROWS, columns: COLS, pixels: Uint16Array.from({ length: n }, (_, i) => (i < n - 1 ? i % 511 : 510)), bitsStored: 9 } });
  out.push({
    name: 'rounding ties: LINEAR_EXACT window c 128 w 510, 8 bits',
    spec: { rows: ROWS, columns: COLS, pixels: Uint8Array.from({ length: n }, (_, i) => i % 256), bitsAllocated: 8, bitsStored: 8, window: { center: 128, width: 510 }, voiLutFunction: 'LINEAR_EXACT' },
  });
  return out;
}

test('synthetic DICOMs from the writer render exactly like pydicom (8 and 16 bit)', { skip: needs('pydicom', 'numpy') }, async (t) => {
  const all = cases();
  const dir = await mkdtemp(join(tmpdir(), 'convert-synthetic-'));
  const files: Uint8Array[] = [];
  const paths: string[] = [];
  for (const [i, c] of all.entries()) {
    const bytes = writeDicom(c.spec);
    files.push(bytes);
    paths.push(join(dir, `${i}.dcm`));
    await writeFile(paths[i], bytes);
  }
  const reference = await pydicomRender(paths, await mkdtemp(join(tmpdir(), 'convert-synthetic-py-')));
  let worst = 0;
  const modes = new Set<string>();
  const ties = new Map<string, number>();
  for (const [i, c] of all.entries()) {
    const py = reference[i];
    assert.ok(py.ok, `pydicom failed on ${c.name}: ${!py.ok && py.error}`);
    modes.add(py.mode);
    ties.set(py.mode, (ties.get(py.mode) ?? 0) + py.ties);
    for (const bits of [8, 16] as const) {
      const ours = (await renderDicom(files[i], { window: 'auto', bits, frames: 'first' })).frames[0];
      assert.deepEqual([ours.width, ours.height], [COLS, ROWS], c.name);
      const { maxDiff } = compareImages(ours.pixels, bits === 8 ? py.pixels8[0] : py.pixels16[0]);
      assert.equal(maxDiff, 0, `${c.name} (${bits}-bit): max diff ${maxDiff} vs pydicom (${py.mode}; ours ${ours.voi})`);
      worst = Math.max(worst, maxDiff);
    }
  }
  assert.deepEqual([...modes].sort(), ['minmax', 'voi_lut', 'window']);
  // Exact .5 grey levels, where rounding half up would give another value than numpy's half to even.
  t.diagnostic(`${all.length} files x 2 bit depths, worst max diff ${worst}; half-to-even ties by mode: ${[...ties].map(([m, n]) => `${m} ${n}`).join(', ')}`);
  for (const mode of ['minmax', 'window']) assert.ok((ties.get(mode) ?? 0) > 0, `no rounding ties among the ${mode} files`);
});
