import type { ByteSource } from './byte-source.ts';
import { elementAt, loadNpy, NpyFormatError, parseNpy, type LoadedNpy, type NpyArray } from './npy.ts';
import { readZip, zipNames } from './zip.ts';

export type NpzSplit = 'train' | 'val' | 'test';
export const NPZ_SPLITS: readonly NpzSplit[] = ['train', 'val', 'test'];

/**
 * How the labels read: `binary` and `multiclass` from an N x 1 (or N) array of class indices (binary =
 * two classes), `multilabel` from an N x K 0/1 array with K > 1 (ChestMNIST).
 */
export type NpzLabelKind = 'binary' | 'multiclass' | 'multilabel';

export interface NpzPart {
  split: NpzSplit;
  count: number;
  /** Label indices of image `i` (one for binary / multi-class, the positive columns for multi-label). */
  labelsOf(i: number): number[];
  /** The pixels of image `i`: height x width x channels bytes, row-major. */
  pixelsOf(i: number): Buffer;
}

export interface MedmnistNpz {
  kind: NpzLabelKind;
  /** Classes by index: K columns (multi-label) or the largest index + 1 (at least 2) unless `classCount` says more. */
  classCount: number;
  width: number;
  height: number;
  channels: 1 | 3;
  parts: NpzPart[];
}

/**
 * A MedMNIST-layout .npz (keys `{train,val,test}_images`, `{train,val,test}_labels`; images uint8
 * N x H x W or N x H x W x 3, labels N x 1 class indices or N x K 0/1): checked, with every error naming
 * the key and the shape at fault (NpyFormatError). Splits absent from the file are left out; at least one
 * must be there. `names`, when known, sets the class count (and must cover every label).
 */
export function readMedmnistNpz(bytes: ByteSource, names?: readonly string[]): MedmnistNpz {
  const members = readZip(bytes, (name) => /^(train|val|test)_(images|labels)\.npy$/.test(name));
  const arrays = new Map([...members].map(([name, data]) => [name.replace(/\.npy$/, ''), parseNpy(data, name.replace(/\.npy$/, ''))]));
  const present = NPZ_SPLITS.filter((s) => arrays.has(`${s}_images`) || arrays.has(`${s}_labels`));
  if (present.length === 0) {
    throw new NpyFormatError('archive', `no train_images / train_labels (nor val_ or test_) arrays: not a MedMNIST-layout .npz (members: ${zipNames(bytes).join(', ') || 'none'})`);
  }
  const pairs = present.map((split) => {
    const images = arrays.get(`${split}_images`);
    const labels = arrays.get(`${split}_labels`);
    if (!images || !labels) throw new NpyFormatError(`${split}_${images ? 'labels' : 'images'}`, `missing, while ${split}_${images ? 'images' : 'labels'} is there`);
    // labels are read element by element (and are small); images stay where they are until an image is wanted
    return { split, images, labels: loadNpy(labels) };
  });
  const geometry = imageGeometry(pairs[0].images);
  for (const { images, labels } of pairs) {
    const g = imageGeometry(images);
    if (g.width !== geometry.width || g.height !== geometry.height || g.channels !== geometry.channels) {
      throw new NpyFormatError(images.key, `shape (${images.shape.join(', ')}) differs from ${pairs[0].images.key} (${pairs[0].images.shape.join(', ')}): all splits need the same image size and channels`);
    }
    if (labels.shape[0] !== images.shape[0]) throw new NpyFormatError(labels.key, `${labels.shape[0]} labels for ${images.shape[0]} images in ${images.key}`);
  }
  const kind0 = labelColumns(pairs[0].labels);
  for (const { labels } of pairs) {
    if (labelColumns(labels) !== kind0) throw new NpyFormatError(labels.key, `shape (${labels.shape.join(', ')}) differs from ${pairs[0].labels.key} (${pairs[0].labels.shape.join(', ')})`);
  }
  const multilabel = kind0 > 1;
  let classCount = multilabel ? kind0 : 2;
  for (const { labels } of pairs) {
    const n = labels.shape[0] * kind0;
    for (let i = 0; i < n; i++) {
      const v = elementAt(labels, i);
      if (multilabel ? v !== 0 && v !== 1 : !Number.isInteger(v) || v < 0) {
        const row = Math.floor(i / kind0);
        throw new NpyFormatError(labels.key, `row ${row} holds ${v}: ${multilabel ? 'a multi-label (N x K) array holds 0 or 1' : 'a class index is a whole number >= 0'}`);
      }
      if (!multilabel) classCount = Math.max(classCount, v + 1);
    }
  }
  if (names) {
    if (multilabel && names.length !== classCount) throw new NpyFormatError(pairs[0].labels.key, `${classCount} label columns but ${names.length} class names`);
    if (!multilabel && names.length < classCount) throw new NpyFormatError(pairs[0].labels.key, `class index ${classCount - 1} occurs but only ${names.length} class names are given`);
    classCount = names.length;
  }
  const pixels = geometry.width * geometry.height * geometry.channels;
  const parts = pairs.map(({ split, images, labels }): NpzPart => ({
    split,
    count: images.shape[0],
    labelsOf: (i) => {
      if (!multilabel) return [elementAt(labels, i)];
      const out: number[] = [];
      for (let k = 0; k < kind0; k++) if (elementAt(labels, i * kind0 + k) === 1) out.push(k);
      return out;
    },
    pixelsOf: (i) => images.data.read(i * pixels, (i + 1) * pixels),
  }));
  return { kind: multilabel ? 'multilabel' : classCount === 2 ? 'binary' : 'multiclass', classCount, ...geometry, parts };
}

function imageGeometry(images: NpyArray): { width: number; height: number; channels: 1 | 3 } {
  const s = images.shape;
  if (images.dtype !== 'u1') throw new NpyFormatError(images.key, `dtype ${images.dtype}, expected uint8 (u1) pixels`);
  const channels = s.length === 3 ? 1 : s.length === 4 && (s[3] === 1 || s[3] === 3) ? s[3] : undefined;
  if (channels === undefined || s[1] < 1 || s[2] < 1) throw new NpyFormatError(images.key, `shape (${s.join(', ')}), expected N x H x W (grey) or N x H x W x 3 (RGB)`);
  return { width: s[2], height: s[1], channels: channels as 1 | 3 };
}

/** 1 for N or N x 1 class indices, K for N x K label columns. */
function labelColumns(labels: LoadedNpy): number {
  const s = labels.shape;
  if (s.length === 1) return 1;
  if (s.length === 2 && s[1] >= 1) return s[1];
  throw new NpyFormatError(labels.key, `shape (${s.join(', ')}), expected N x 1 class indices or N x K 0/1 columns`);
}
