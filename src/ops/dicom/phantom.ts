import { createHash } from 'node:crypto';
import type { DicomImageSpec, TransferSyntaxName } from './write.ts';
import { uidFrom } from './write.ts';
import { mulberry32 } from '../../util/random.ts';
import { LESION_KINDS, lesionAttenuation, lesionBox, placeLesions, type Lesion, type LesionKind, type LesionOptions } from './phantom-lesions.ts';

/** The findings the phantom draws, with their VinBigData class ids. */
export const PHANTOM_FINDINGS = { Cardiomegaly: 3, 'Nodule/Mass': 8, 'Pleural effusion': 10 } as const;
export type PhantomFinding = keyof typeof PHANTOM_FINDINGS;
export const NO_FINDING = 'No finding';
export const NO_FINDING_CLASS_ID = 14;

/** The VinBigData class id of a finding or lesion class the phantom draws. */
export function findingClassId(label: PhantomFinding | LesionKind): number {
  return label in LESION_KINDS ? LESION_KINDS[label as LesionKind].classId : PHANTOM_FINDINGS[label as PhantomFinding];
}

export interface PixelBox {
  x_min: number;
  y_min: number;
  x_max: number;
  y_max: number;
}

export interface PhantomImage {
  /** 32-hex id (VinBigData style), also the file stem. */
  imageId: string;
  patientIndex: number;
  findings: Array<{ label: PhantomFinding | LesionKind; box: PixelBox }>;
  /** Each finding boxed by 3 simulated radiologists with jitter; `reader` like `R9`. */
  readings: Array<{ label: PhantomFinding | LesionKind; reader: string; box: PixelBox }>;
  /** The 3 readers of the image (for "No finding" rows too). */
  readers: string[];
  spec: DicomImageSpec;
}

export interface PhantomOptions {
  patients: number;
  seed: number;
  /** Image width and height in pixels. */
  size: number;
  /** Draw lesions with exact boxes (detection) instead of the classification findings. */
  lesions?: LesionOptions;
}

/** The phantom's PRNG: mulberry32 on the raw seed (kept so that a seed gives the same images as before). */
export const seededRandom = mulberry32;

function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

interface Ellipse {
  cx: number;
  cy: number;
  rx: number;
  ry: number;
}

const inEllipse = (e: Ellipse, x: number, y: number) => ((x - e.cx) / e.rx) ** 2 + ((y - e.cy) / e.ry) ** 2 <= 1;

/** Anatomy and findings of one image in unit coordinates (0..1 of the image side). */
interface Scene {
  body: Ellipse;
  lungs: [Ellipse, Ellipse];
  heart: Ellipse;
  nodule?: { cx: number; cy: number; r: number; amplitude: number };
  effusion?: { side: 0 | 1; level: number };
  lesions?: Lesion[];
  contrast: number;
  brightness: number;
}

function makeScene(rand: () => number, findings: Set<PhantomFinding>): Scene {
  const j = (s: number) => (rand() - 0.5) * 2 * s;
  const cx = 0.5 + j(0.03);
  const cy = 0.52 + j(0.03);
  const body: Ellipse = { cx, cy, rx: 0.44 + j(0.03), ry: 0.5 + j(0.03) };
  const lungRx = 0.15 + j(0.015);
  const lungRy = 0.28 + j(0.02);
  const lungs: [Ellipse, Ellipse] = [
    { cx: cx - 0.18 + j(0.01), cy: cy - 0.05, rx: lungRx, ry: lungRy },
    { cx: cx + 0.18 + j(0.01), cy: cy - 0.05, rx: lungRx, ry: lungRy },
  ];
  // Normal cardiothoracic ratio ~0.42; cardiomegaly ~0.56.
  const heartRx = findings.has('Cardiomegaly') ? 0.155 + j(0.015) : 0.105 + j(0.012);
  const heart: Ellipse = { cx: cx + 0.03, cy: cy + 0.12 + j(0.01), rx: heartRx, ry: 0.12 + j(0.01) };
  const scene: Scene = { body, lungs, heart, contrast: 1 + j(0.12), brightness: j(0.05) };
  if (findings.has('Nodule/Mass')) {
    const lung = lungs[rand() < 0.5 ? 0 : 1];
    const angle = rand() * 2 * Math.PI;
    const dist = Math.sqrt(rand()) * 0.55;
    scene.nodule = {
      cx: lung.cx + Math.cos(angle) * dist * lung.rx,
      cy: lung.cy - 0.05 + Math.sin(angle) * dist * lung.ry * 0.7,
      r: 0.045 + rand() * 0.03,
      amplitude: 0.35 + rand() * 0.15,
    };
  }
  if (findings.has('Pleural effusion')) scene.effusion = { side: rand() < 0.5 ? 0 : 1, level: 0.18 + rand() * 0.17 };
  return scene;
}

/** Attenuation in [0,1] at unit coordinates (bright = dense), without noise. */
function attenuation(s: Scene, x: number, y: number): number {
  if (!inEllipse(s.body, x, y)) return 0.04;
  let a = 0.55;
  for (let i = 0; i < 2; i++) {
    const lung = s.lungs[i];
    if (!inEllipse(lung, x, y)) continue;
    a = 0.2 + 0.08 * ((y - lung.cy) / lung.ry); // denser towards the base
    // Ribs: faint periodic arcs.
    const rib = Math.sin((y + 0.15 * ((x - lung.cx) / lung.rx) ** 2) * 55);
    if (rib > 0.75) a += 0.07;
    if (s.effusion && s.effusion.side === i) {
      // Basal opacity with a meniscus rising towards the lateral wall.
      const t = (x - lung.cx) / lung.rx;
      const lateral = i === 0 ? -t : t;
      const top = lung.cy + lung.ry * (1 - 2 * s.effusion.level) - 0.06 * Math.max(0, lateral);
      if (y > top) a = 0.58;
    }
  }
  if (Math.abs(x - s.body.cx) < 0.035) a = Math.max(a, 0.7); // spine / mediastinum
  if (inEllipse(s.heart, x, y)) a = Math.max(a, 0.66);
  if (s.nodule) {
    const d2 = ((x - s.nodule.cx) ** 2 + (y - s.nodule.cy) ** 2) / s.nodule.r ** 2;
    if (d2 < 4) a += s.nodule.amplitude * Math.exp(-d2 * 1.2);
  }
  if (s.lesions) a += lesionAttenuation(s.lesions, x, y);
  return a;
}

function ellipseBox(e: Ellipse, size: number): PixelBox {
  return clampBox({ x_min: (e.cx - e.rx) * size, y_min: (e.cy - e.ry) * size, x_max: (e.cx + e.rx) * size, y_max: (e.cy + e.ry) * size }, size);
}

function clampBox(b: PixelBox, size: number): PixelBox {
  const c = (v: number) => Math.round(Math.min(size - 1, Math.max(0, v)));
  return { x_min: c(b.x_min), y_min: c(b.y_min), x_max: c(b.x_max), y_max: c(b.y_max) };
}

function findingBox(s: Scene, label: PhantomFinding, size: number): PixelBox {
  if (label === 'Cardiomegaly') return ellipseBox(s.heart, size);
  if (label === 'Nodule/Mass') {
    const n = s.nodule!;
    const r = n.r * 1.6;
    return ellipseBox({ cx: n.cx, cy: n.cy, rx: r, ry: r }, size);
  }
  const lung = s.lungs[s.effusion!.side];
  const top = lung.cy + lung.ry * (1 - 2 * s.effusion!.level) - 0.06;
  return clampBox({ x_min: (lung.cx - lung.rx) * size, y_min: top * size, x_max: (lung.cx + lung.rx) * size, y_max: (lung.cy + lung.ry) * size }, size);
}

/** How a file stores its pixels: the things real files vary, chosen per image. */
interface Encoding {
  transferSyntax: TransferSyntaxName;
  photometric: 'MONOCHROME1' | 'MONOCHROME2';
  bitsAllocated: 8 | 16;
  bitsStored: number;
  pixelRepresentation: 0 | 1;
  rescale: boolean;
  window: boolean;
  voiLutFunction?: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';
  voiLut: boolean;
}

const SYNTAXES: TransferSyntaxName[] = ['explicit-le', 'implicit-le', 'rle', 'explicit-be', 'deflate'];
const DEPTHS: Array<[8 | 16, number, 0 | 1]> = [
  [16, 12, 0],
  [16, 16, 0],
  [8, 8, 0],
  [16, 12, 1],
  [16, 10, 0],
  [16, 16, 1],
  [16, 14, 0],
];

/** Deterministic per-image encoding: cycles through syntaxes, depths and VOI variants with different periods. */
export function encodingFor(index: number, rand: () => number): Encoding {
  const [bitsAllocated, bitsStored, pixelRepresentation] = DEPTHS[index % DEPTHS.length];
  const windowed = rand() < 0.7;
  const functions = [undefined, 'LINEAR', 'LINEAR_EXACT', 'SIGMOID'] as const;
  return {
    transferSyntax: SYNTAXES[index % SYNTAXES.length],
    photometric: index % 3 === 1 ? 'MONOCHROME1' : 'MONOCHROME2',
    bitsAllocated,
    bitsStored,
    pixelRepresentation,
    rescale: pixelRepresentation === 1 || rand() < 0.3,
    window: windowed,
    voiLutFunction: windowed ? functions[Math.floor(rand() * 4)] : undefined,
    // A VOI LUT Sequence only where its table stays small (<= 4096 entries).
    voiLut: !windowed && bitsStored <= 12 && rand() < 0.5,
  };
}

/** Where each pixel is sampled (2 x 2 sub-samples, averaged for smoother edges), in pixels from its corner. */
export const PIXEL_SUBSAMPLES: ReadonlyArray<readonly [number, number]> = [[0.25, 0.25], [0.75, 0.25], [0.25, 0.75], [0.75, 0.75]];

/** Renders one image's stored pixel values and the VOI/rescale header for its encoding. */
function render(scene: Scene, size: number, enc: Encoding, rand: () => number): Pick<DicomImageSpec, 'pixels' | 'rescale' | 'window' | 'voiLut' | 'voiLutFunction'> {
  const storedMin = enc.pixelRepresentation ? -(2 ** (enc.bitsStored - 1)) : 0;
  const storedMax = enc.pixelRepresentation ? 2 ** (enc.bitsStored - 1) - 1 : 2 ** enc.bitsStored - 1;
  // Real detectors rarely use the full range: map attenuation into ~85% of it.
  const span = (storedMax - storedMin) * 0.85;
  const base = storedMin + (storedMax - storedMin) * 0.05;
  const n = size * size;
  const pixels = enc.bitsAllocated === 8 ? new Uint8Array(n) : enc.pixelRepresentation ? new Int16Array(n) : new Uint16Array(n);
  const noise = 0.025;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let a = 0;
      for (const [dx, dy] of PIXEL_SUBSAMPLES) a += attenuation(scene, (x + dx) / size, (y + dy) / size);
      a = (a / 4 - 0.5) * scene.contrast + 0.5 + scene.brightness + noise * gaussian(rand);
      a = Math.min(1, Math.max(0, a));
      const shown = enc.photometric === 'MONOCHROME1' ? 1 - a : a;
      pixels[y * size + x] = Math.round(base + shown * span);
    }
  }
  // Unsigned images with a VOI LUT keep modality values >= 0: the LUT's first mapped value is then non-negative,
  // which implicit VR files can hold (readers take that descriptor value as US for unsigned pixels).
  const intercept = enc.rescale ? (enc.pixelRepresentation || enc.voiLut ? 1024 : -1024) : 0;
  const modality = (stored: number) => stored + intercept;
  const out: ReturnType<typeof render> = { pixels };
  if (enc.rescale) out.rescale = { slope: 1, intercept };
  if (enc.window) {
    // Cover attenuation 0..1 of this image's mapping, like a technologist's default window.
    const lo = modality(base);
    const hi = modality(base + span);
    out.window = { center: Math.round((lo + hi) / 2), width: Math.round((hi - lo) * 1.05) };
    if (enc.voiLutFunction) out.voiLutFunction = enc.voiLutFunction;
  }
  if (enc.voiLut) {
    const first = modality(storedMin);
    const entries = storedMax - storedMin + 1;
    const data = new Uint16Array(entries);
    for (let i = 0; i < entries; i++) {
      const t = Math.min(1, Math.max(0, (storedMin + i - base) / span));
      data[i] = Math.round(Math.sqrt(t) * 4095); // a gamma-like display curve
    }
    out.voiLut = { firstMapped: first, bits: 12, data, explanation: 'SYNTHETIC GAMMA' };
  }
  return out;
}

const READERS = ['R8', 'R9', 'R10', 'R11', 'R12', 'R13', 'R14', 'R15', 'R16', 'R17'];

function jitterBox(b: PixelBox, size: number, rand: () => number): PixelBox {
  const s = Math.max(1, (b.x_max - b.x_min + b.y_max - b.y_min) * 0.04);
  return clampBox({ x_min: b.x_min + gaussian(rand) * s, y_min: b.y_min + gaussian(rand) * s, x_max: b.x_max + gaussian(rand) * s, y_max: b.y_max + gaussian(rand) * s }, size);
}

/** Lesions (own PRNG per image, so the anatomy and encodings follow the main sequence) with exact boxes and their readings. */
function drawLesions(scene: Scene, imageId: string, readers: readonly string[], size: number, options: LesionOptions): { boxed: PhantomImage['findings']; readings: PhantomImage['readings'] } {
  const rand = seededRandom(parseInt(imageId.slice(8, 16), 16));
  const placed = placeLesions(rand, scene.lungs, size, options);
  const boxed: PhantomImage['findings'] = [];
  scene.lesions = [];
  for (const lesion of placed) {
    const box = lesionBox(lesion, size, PIXEL_SUBSAMPLES);
    if (!box) continue;
    scene.lesions.push(lesion);
    boxed.push({ label: lesion.label, box });
  }
  const readings = boxed.flatMap((f) => readers.slice(0, options.readers).map((reader) => ({ label: f.label, reader, box: options.jitter > 0 ? jitterExact(f.box, size, options.jitter, rand) : f.box })));
  return { boxed, readings };
}

/** A reader's box: each edge moved by N(0, jitter x mean side) pixels, rounded, kept inside the image and non-empty. */
function jitterExact(b: PixelBox, size: number, jitter: number, rand: () => number): PixelBox {
  const s = (jitter * (b.x_max - b.x_min + b.y_max - b.y_min)) / 2;
  const c = (v: number) => Math.round(Math.min(size, Math.max(0, v)));
  const x_min = Math.min(size - 1, c(b.x_min + gaussian(rand) * s)), y_min = Math.min(size - 1, c(b.y_min + gaussian(rand) * s));
  return { x_min, y_min, x_max: Math.max(x_min + 1, c(b.x_max + gaussian(rand) * s)), y_max: Math.max(y_min + 1, c(b.y_max + gaussian(rand) * s)) };
}

function hex32(...parts: Array<string | number>): string {
  return createHash('sha256').update(parts.join('/')).digest('hex').slice(0, 32);
}

const FIRST = ['JANE', 'JOHN', 'MARIA', 'WEI', 'AMIR', 'OLGA', 'KENJI', 'FATIMA'];
const LAST = ['DOE', 'SMITH', 'GARCIA', 'NGUYEN', 'MÜLLER', 'ROSSI', 'KOWALSKI', 'TANAKA'];

/**
 * The synthetic chest X-ray set for `options`: deterministic for a seed. Each patient has 1-3 images;
 * each image has each finding with probability ~0.3 (otherwise possibly none: "No finding").
 * Images are rendered lazily through `spec` so large sets stream.
 */
export function* phantomImages(options: PhantomOptions): Generator<PhantomImage> {
  const rand = seededRandom(options.seed * 2654435761 + 1);
  let index = 0;
  for (let p = 0; p < options.patients; p++) {
    const patient = {
      id: `PID${String(Math.floor(rand() * 1e7)).padStart(7, '0')}`,
      name: `${LAST[Math.floor(rand() * LAST.length)]}^${FIRST[Math.floor(rand() * FIRST.length)]}`,
      birthDate: `19${40 + Math.floor(rand() * 60)}0${1 + Math.floor(rand() * 9)}1${Math.floor(rand() * 9)}`,
      sex: (rand() < 0.5 ? 'F' : 'M') as 'F' | 'M',
    };
    const images = 1 + Math.floor(rand() * 3);
    for (let k = 0; k < images; k++, index++) {
      const imageId = hex32('phantom', options.seed, p, k);
      const findings = new Set<PhantomFinding>();
      if (!options.lesions) for (const f of Object.keys(PHANTOM_FINDINGS) as PhantomFinding[]) if (rand() < 0.3) findings.add(f);
      const scene = makeScene(rand, findings);
      const enc = encodingFor(index, rand);
      const readers = [...READERS].sort(() => rand() - 0.5).slice(0, 3);
      let boxed: PhantomImage['findings'] = [...findings].map((label) => ({ label, box: findingBox(scene, label, options.size) }));
      let readings: PhantomImage['readings'] = boxed.flatMap((f) => readers.map((reader) => ({ label: f.label, reader, box: jitterBox(f.box, options.size, rand) })));
      if (options.lesions) ({ boxed, readings } = drawLesions(scene, imageId, readers, options.size, options.lesions));
      const studyUid = uidFrom('phantom-study', String(options.seed), String(p), String(k));
      const spacing = +(0.1 + rand() * 0.1).toFixed(3) * (2048 / options.size);
      const pixelRand = seededRandom(parseInt(imageId.slice(0, 8), 16));
      yield {
        imageId,
        patientIndex: p,
        findings: boxed,
        readings,
        readers,
        spec: {
          rows: options.size,
          columns: options.size,
          ...render(scene, options.size, enc, pixelRand),
          photometric: enc.photometric,
          bitsAllocated: enc.bitsAllocated,
          bitsStored: enc.bitsStored,
          pixelRepresentation: enc.pixelRepresentation,
          transferSyntax: enc.transferSyntax,
          modality: index % 4 === 3 ? 'CR' : 'DX',
          patient,
          studyUid,
          seriesUid: uidFrom('phantom-series', studyUid),
          sopUid: uidFrom('phantom-sop', imageId),
          studyDate: `2020${String(1 + (index % 12)).padStart(2, '0')}15`,
          viewPosition: rand() < 0.8 ? 'PA' : 'AP',
          pixelSpacing: [+spacing.toFixed(4), +spacing.toFixed(4)],
        },
      };
    }
  }
}
