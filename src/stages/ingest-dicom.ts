import { z } from 'zod';
import { defineStage, lazyRun } from '../engine/stage.ts';
import { saltEnvironmentKey, commonIngestParams, externalSourcePaths } from './ingest-params.ts';

export const ingestDicomParams = z
  .object({
    source: z.string().optional().describe('DICOM folder, file or glob (e.g. data/train/**/*.dicom), relative to the experiment file; omit to take the files of a `from:` stage'),
    glob: z.string().default('**/*').describe('Which files under a source folder to read (files that are not DICOM are reported and skipped)'),
    dedupe: z.boolean().default(true).describe('Keep one file per SOPInstanceUID (the first path); false keeps them all, e.g. a test suite holding one image in several transfer syntaxes'),
    ...commonIngestParams,
  })
  .strict();

export type IngestDicomParams = z.output<typeof ingestDicomParams>;

/**
 * Walks a DICOM folder (or takes a `files` artifact), reads each header up to the pixel data, stores the
 * original bytes, pseudonymises patients, dedupes by SOPInstanceUID and joins labels.
 */
export const ingestDicom = defineStage({
  name: 'ingest-dicom',
  version: 7,
  description: 'DICOM folder -> dataset: header metadata, originals in the store, pseudonymised patients, labels joined',
  params: ingestDicomParams,
  perItem: true,
  inputs: { min: 0, max: 1 },
  externalPaths: (params) => externalSourcePaths(params),
  environmentKey: (params) => saltEnvironmentKey(params),
  run: lazyRun(() => import('./ingest-dicom.run.ts')),
});
