import { basename } from 'node:path';
import type { DatasetRow } from '../data-model.ts';
import type { ArtifactDraft } from '../engine/artifact.ts';
import { StageInputError, type StageContext } from '../engine/stage.ts';
import { encodeGreyPng, encodeRgbPng } from '../ops/image/png-encode.ts';
import { fileSource, type ByteSource } from '../ops/npz/byte-source.ts';
import { medmnistLabelsFor } from '../ops/npz/medmnist-names.ts';
import { readMedmnistNpz, type MedmnistNpz } from '../ops/npz/medmnist-npz.ts';
import { NpyFormatError } from '../ops/npz/npy.ts';
import { ZipFormatError } from '../ops/npz/zip.ts';
import { loadSharp } from '../util/sharp.ts';
import type { IngestImagesParams } from './ingest-images.ts';
import { labelSources } from './labels-params.ts';
import { errorText } from '../util/error-text.ts';

/** Images encoded and stored at once (the store writes are asynchronous). */
const BATCH = 256;

/**
 * ingest-images with `source: x.npz`: a MedMNIST-layout archive (docs/dicom-ingest.md#medmnist-npz-archives)
 * becomes one grey (or RGB) PNG per image, with the archive's split and labels. Class names: `labels:
 * { names: [...] }`, else the published names when the file is one of the 12 MedMNIST 2D sets, else the
 * label indices.
 */
export async function runNpz(ctx: StageContext, params: IngestImagesParams): Promise<ArtifactDraft> {
  const source = params.source!;
  const file = basename(source);
  const unused = (['classes', 'split_lists', 'patient_pattern'] as const).filter((k) => params[k] !== undefined);
  if (unused.length) throw new StageInputError(`${unused.join(', ')}: not used with an .npz source (it holds the split and label indices, and no patient ids)`, 'name the classes with labels: { names: [...] }');
  const given = namesParam(params);
  const published = medmnistLabelsFor(file);
  // read where needed, not loaded: a MedMNIST+ archive at 224 px is up to 16 GB
  let archive: ReturnType<typeof fileSource>;
  try {
    archive = fileSource(ctx.resolvePath(source));
  } catch (err) {
    throw new StageInputError(`source ${source} cannot be read: ${errorText(err)}`, 'give the path of the .npz relative to the experiment file');
  }
  try {
    return await ingestArchive(ctx, params, archive, given, published);
  } finally {
    archive.close();
  }
}

async function ingestArchive(ctx: StageContext, params: IngestImagesParams, bytes: ByteSource, given: string[] | undefined, published: ReturnType<typeof medmnistLabelsFor>): Promise<ArtifactDraft> {
  const source = params.source!;
  const file = basename(source);
  let npz: MedmnistNpz;
  try {
    npz = readMedmnistNpz(bytes, given ?? published?.names);
  } catch (err) {
    if (err instanceof NpyFormatError || err instanceof ZipFormatError) {
      throw new StageInputError(`source ${source}: ${err.message}`, 'expected a MedMNIST-layout .npz: train_images / val_images / test_images (uint8, N x H x W or N x H x W x 3) with train_labels / ... (N x 1 class indices or N x K 0/1), as np.savez or np.savez_compressed write it');
    }
    throw err;
  }
  const names = given ?? published?.names ?? Array.from({ length: npz.classCount }, (_, k) => String(k));
  const rgb = npz.channels === 3 && params.colour === 'rgb';
  if (npz.channels === 3 && !rgb) ctx.log.warn(`${file} holds RGB images: stored as grey (luminance); set colour: rgb (and train with channels: 3) to keep colour`);
  const width = String(Math.max(...npz.parts.map((p) => p.count - 1), 0)).length;
  const rows: DatasetRow[] = [];
  const total = npz.parts.reduce((n, p) => n + p.count, 0);
  for (const part of npz.parts) {
    for (let from = 0; from < part.count; from += BATCH) {
      const indices = Array.from({ length: Math.min(BATCH, part.count - from) }, (_, j) => from + j);
      const images = await Promise.all(indices.map(async (i) => ctx.store.putBlob(await pngOf(npz, part.pixelsOf(i), rgb))));
      indices.forEach((i, j) => {
        const id = `${part.split}_${String(i).padStart(width, '0')}`;
        rows.push({
          id,
          patient: `image:${id}`,
          labels: part.labelsOf(i).map((k) => names[k]),
          image: images[j],
          width: npz.width,
          height: npz.height,
          source_format: 'npy',
          source_channels: npz.channels,
          bits: 8,
          path: `${file}:${part.split}_images[${i}]`,
          split: part.split,
        });
      });
      ctx.progress({ done: rows.length, total });
    }
  }
  const counts = npz.parts.map((p) => `${p.split} ${p.count}`).join(', ');
  ctx.log.info(`ingested ${rows.length} images from ${file} (${counts}; ${npz.width}x${npz.height}, ${npz.channels === 3 ? 'RGB' : 'grey'}${rgb || npz.channels === 1 ? '' : ' stored grey'}; ${npz.kind}, ${names.length} classes, names ${given ? 'from labels.names' : published ? `of MedMNIST ${published.flag}` : 'are the label indices'}); no patient ids in an .npz: each image is its own patient`);
  return {
    kind: 'dataset',
    rows,
    meta: {
      classes: [...names],
      // train's task: auto follows this (a multi-label set whose rows happen to carry one label each stays multi-label).
      task: npz.kind === 'multilabel' ? 'multilabel' : 'multiclass',
      // train warns when it would drop the colour of these images (channels: 1).
      channels: rgb ? 3 : 1,
      label_format: 'npz',
      label_kind: npz.kind,
      pseudonymized: !params.keep_original_patient_ids,
      summary: { files: 1, ingested: rows.length, failed: 0, unlabeled: rows.filter((r) => r.labels!.length === 0).length, without_patient: rows.length, ...Object.fromEntries(npz.parts.map((p) => [p.split, p.count])) },
      failed: [],
    },
  };
}

async function pngOf(npz: MedmnistNpz, pixels: Buffer, rgb: boolean): Promise<Uint8Array> {
  const image = { data: new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.length), width: npz.width, height: npz.height, channels: npz.channels };
  if (npz.channels === 1) return encodeGreyPng(image);
  if (rgb) return encodeRgbPng(image);
  const sharp = await loadSharp();
  return sharp(pixels, { raw: { width: npz.width, height: npz.height, channels: 3 } }).toColourspace('b-w').png().toBuffer();
}

/** `labels: { names: [...] }`, the only labels option of an .npz (its labels are inside). */
function namesParam(params: IngestImagesParams): string[] | undefined {
  const sources = labelSources(params.labels);
  if (sources.length === 0) return undefined;
  const [first] = sources;
  const extra = Object.entries(first).filter(([k, v]) => v !== undefined && !['names', 'format', 'separator'].includes(k));
  if (sources.length > 1 || typeof first.names === 'string' || !first.names || extra.length || first.format !== 'auto') {
    throw new StageInputError('an .npz source carries its own labels: `labels:` may only name the classes, as labels: { names: [...] } (one name per label index)', 'remove the other labels options');
  }
  return first.names;
}
