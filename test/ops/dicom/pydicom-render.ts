import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEBIAN_PYTHON } from './python.ts';

const SCRIPT = fileURLToPath(new URL('./pydicom_render.py', import.meta.url));

interface Rendered {
  ok: true;
  /** How pydicom's side chose the display transform: voi_lut, window, minmax, rgb, ybr, palette (joined by + over frames). */
  mode: string;
  rows: number;
  columns: number;
  frames: number;
  /** Where the reference itself departs from the rule (e.g. `pydicom-unmasked`; with pydicom 3 `pydicom3-stored-differs`, `ybr-rgb-clipped`, `ybr-rgb-differs`). */
  notes: string[];
  /** GDCM's own decoder gives the same stored values for frame 0 (null: GDCM cannot read the file). */
  gdcm: boolean | null;
  /** Pixels where rounding half up instead of half to even would give another grey level (8 and 16 bits). */
  ties: number;
  /** Frame by frame (only frame 0 unless all frames were asked for). */
  pixels8: Uint8Array[];
  pixels16: Uint16Array[];
  /** Grey integer images: the stored values (masked, sign-extended) frame by frame, before any LUT. */
  stored?: Float64Array[];
}

export type PydicomRender = Rendered | { ok: false; error: string };

/**
 * Renders each file with the reference (test/ops/dicom/pydicom_render.py: pydicom 2.3 + GDCM on Debian's
 * /usr/bin/python3, one process for the whole batch) to 8- and 16-bit grey; `workDir` receives the raw outputs.
 * `pythonPath` (PYTHONPATH) may point at another pydicom, e.g. 3.x, which the script then renders with.
 */
export async function pydicomRender(paths: string[], workDir: string, options: { allFrames?: boolean; pythonPath?: string } = {}): Promise<PydicomRender[]> {
  const args = [SCRIPT, workDir, ...(options.allFrames ? ['--all-frames'] : []), ...paths];
  const env = options.pythonPath ? { ...process.env, PYTHONPATH: options.pythonPath } : process.env;
  const out = execFileSync(DEBIAN_PYTHON, args, { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'], env });
  const results = JSON.parse(out) as Array<(Omit<Rendered, 'pixels8' | 'pixels16' | 'stored'> & { stored: boolean }) | { ok: false; error: string }>;
  return Promise.all(
    results.map(async (r, i): Promise<PydicomRender> => {
      if (!r.ok) return r;
      const count = options.allFrames ? r.frames : 1;
      const pixels8: Uint8Array[] = [];
      const pixels16: Uint16Array[] = [];
      const stored: Float64Array[] = [];
      for (let f = 0; f < count; f++) {
        pixels8.push(new Uint8Array(await readFile(join(workDir, `${i}.${f}.8.raw`))));
        const raw16 = await readFile(join(workDir, `${i}.${f}.16.raw`));
        pixels16.push(new Uint16Array(raw16.buffer.slice(raw16.byteOffset, raw16.byteOffset + raw16.byteLength)));
        if (r.stored) {
          const raw = await readFile(join(workDir, `${i}.${f}.stored.raw`));
          stored.push(new Float64Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)));
        }
      }
      const { stored: hasStored, ...rest } = r;
      return { ...rest, pixels8, pixels16, ...(hasStored ? { stored } : {}) };
    }),
  );
}

/** Largest absolute difference between two images of the same size, and how many pixels differ at all. */
export function compareImages(a: ArrayLike<number>, b: ArrayLike<number>): { maxDiff: number; differing: number } {
  if (a.length !== b.length) throw new Error(`image sizes differ: ${a.length} vs ${b.length} pixels`);
  let maxDiff = 0;
  let differing = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > maxDiff) maxDiff = d;
    if (d > 0) differing++;
  }
  return { maxDiff, differing };
}
