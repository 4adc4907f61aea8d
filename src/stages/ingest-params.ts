// The params shared by ingest-dicom and ingest-images, and what the engine derives from them before a
// run (the files read, the salt's key): no run code here, so that loading an experiment stays light.
import { z } from 'zod';
import type { ExternalPath } from '../engine/stage.ts';
import { saltFingerprint } from '../ops/dicom/pseudonym.ts';
import { splitSourceGlob } from '../ops/labels/source.ts';
import { badBoxesParam, labelExternalPaths, labelsParam, splitListsParam, type LabelJoinParams } from './labels-params.ts';

export const pseudonymizeParam = z
  .object({
    salt: z.string().min(1).default('pipeline').describe('Salt of the patient id hash; set your own and keep it out of shared files'),
    salt_env: z.string().optional().describe('Read the salt from this environment variable instead (keeps it out of params and tracking)'),
  })
  .strict()
  .default({ salt: 'pipeline' })
  .describe('Patient ids become P + 16 hex of sha256(salt, id)');

export const commonIngestParams = {
  labels: labelsParam,
  classes: z
    .array(z.string())
    .min(1)
    .optional()
    .describe('Known class names, in this order in meta.classes; labels and boxes of other classes are unknown_class issues (see bad_boxes)'),
  bad_boxes: badBoxesParam,
  split_lists: splitListsParam,
  pseudonymize: pseudonymizeParam,
  keep_original_patient_ids: z.boolean().default(false).describe('Opt out of pseudonymisation: rows carry the original patient ids (PHI!) and, from DICOMs, the original study/series/SOP UIDs'),
  on_error: z.enum(['skip', 'fail']).default('skip').describe('skip: report bad files (path and reason), count them and go on; fail: stop at the first'),
};

export function externalSourcePaths(params: { source?: string; glob?: string } & LabelJoinParams): ExternalPath[] {
  const out: ExternalPath[] = [];
  if (params.source) {
    const { base, glob } = splitSourceGlob(params.source);
    const g = glob ?? params.glob;
    out.push({ param: 'source', path: base, ...(g ? { glob: g } : {}) });
  }
  return [...out, ...labelExternalPaths(params)];
}

/**
 * The stage's environmentKey: a salt read from an environment variable (`salt_env`, e.g. PIPELINE_SALT)
 * joins the cache key as a keyed hash, so changing it re-pseudonymises. An unset variable adds nothing
 * here: the stage then fails, saying so.
 */
export function saltEnvironmentKey(params: { pseudonymize: { salt: string; salt_env?: string }; keep_original_patient_ids: boolean }): Record<string, string> {
  const name = params.pseudonymize.salt_env;
  const value = name ? process.env[name] : undefined;
  if (params.keep_original_patient_ids || !name || !value) return {};
  return { [`environment variable ${name}`]: saltFingerprint(value) };
}
