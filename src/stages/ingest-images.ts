import { z } from 'zod';
import { defineStage, lazyRun } from '../engine/stage.ts';
import { saltEnvironmentKey, commonIngestParams, externalSourcePaths } from './ingest-params.ts';

export const ingestImagesParams = z
  .object({
    source: z.string().optional().describe('Image folder, file or glob, relative to the experiment file; or a MedMNIST-layout .npz (images, labels and split inside: docs/dicom-ingest.md#medmnist-npz-archives); omit to take the files of a `from:` stage'),
    glob: z.string().default('**/*.{png,PNG,jpg,JPG,jpeg,JPEG,tif,TIF,tiff,TIFF}').describe('Which files under a source folder are images'),
    colour: z.enum(['grey', 'rgb']).default('grey').describe('grey: colour inputs become grey PNGs (luminance); rgb: colour inputs are kept as 8-bit RGB PNGs (microscopy, photographs; train with channels: 3), grey inputs stay grey'),
    patient_pattern: z
      .string()
      .optional()
      .describe('Regex with one capture group taking the patient id from the file name when the CSV has no patient column (NIH: "^(?:\\\\w+_)?(\\\\d{8})_")'),
    ...commonIngestParams,
  })
  .strict();


export type IngestImagesParams = z.output<typeof ingestImagesParams>;

/**
 * PNG/JPEG folder -> dataset. Grey PNGs are stored as they are; RGB(A) or JPEG inputs become grey PNGs
 * (8-bit, or 16-bit for 16-bit inputs) so every row's `image` is a grey PNG, unless `colour: rgb` keeps
 * colour inputs as 8-bit RGB PNGs.
 */
export const ingestImages = defineStage({
  name: 'ingest-images',
  version: 4,
  description: 'PNG/JPEG folder (or MedMNIST .npz) -> dataset of grey PNGs with labels (CSV or folder per class)',
  params: ingestImagesParams,
  perItem: true,
  inputs: { min: 0, max: 1 },
  externalPaths: (params) => externalSourcePaths(params),
  environmentKey: (params) => saltEnvironmentKey(params),
  run: lazyRun(() => import('./ingest-images.run.ts')),
});
