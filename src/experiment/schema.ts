import { z } from 'zod';
import { trackingConfigSchema } from '../tracking/config.ts';

export const STAGE_ID_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;
export const RESOURCE_RE = /^[a-z][a-z0-9-]{0,31}$/;

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** `from:` one stage id, a list, or named inputs `{ name: stage | [stages] }`. */
export const fromSchema = z
  .union([z.string(), z.array(z.string()), z.record(z.string(), z.union([z.string(), z.array(z.string())]))])
  .describe('Upstream stage(s) whose outputs this stage reads: an id, a list of ids, or named inputs {name: id}.');

export const foreachSchema = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.union([z.string(), z.array(scalar)]))
  .describe('Fan-out: one instance per value (a list or "range(n)"); several keys give their product. Use ${each.KEY} in with:.');

export const stageSpecSchema = z
  .object({
    uses: z.string().describe('Stage type: a built-in name, "command", or a path to a module (./stages/x.ts).'),
    from: fromSchema.optional(),
    with: z.record(z.string(), z.unknown()).optional().describe("The stage type's parameters."),
    foreach: foreachSchema.optional(),
    description: z.string().optional(),
    resources: z
      .record(z.string().regex(RESOURCE_RE, 'resource classes are lower-case letters, digits and -'), z.literal(1))
      .refine((r) => Object.keys(r).length === 1, 'name one resource class, e.g. { gpu: 1 }')
      .optional()
      .describe('With a queue (pipeline run --queue): the resource class the stage needs, e.g. { gpu: 1 }; its jobs go only to workers that offer it. Ignored when running locally.'),
    queue: z.string().regex(RESOURCE_RE, 'queue names are lower-case letters, digits and -').optional().describe('With a queue: the worker queue (resource class) for this stage, e.g. highmem; same as resources: { highmem: 1 }.'),
  })
  .strict();

export type StageSpec = z.output<typeof stageSpecSchema>;

/** An experiment file (and a template in pipelines/: same shape). */
export const experimentFileSchema = z
  .object({
    name: z.string().optional().describe('Experiment name (default: the file name without extension).'),
    description: z.string().optional(),
    extends: z.string().optional().describe('A template (path relative to this file) whose params and stages this file overrides.'),
    params: z.record(z.string(), z.unknown()).optional().describe('Values referenced as ${params.NAME}.'),
    tracking: trackingConfigSchema.optional(),
    stages: z
      .record(z.string().regex(STAGE_ID_RE, 'stage ids start with a letter and use letters, digits, _ and -'), stageSpecSchema.nullable())
      .optional()
      .describe('Stage id -> stage. In an experiment that extends a template, null removes a template stage.'),
  })
  .strict();

export type ExperimentFile = z.output<typeof experimentFileSchema>;

/** A file that `extends` a template may override a template stage without repeating its `uses`. */
export const overrideFileSchema = experimentFileSchema.extend({
  stages: z.record(z.string().regex(STAGE_ID_RE, 'stage ids start with a letter and use letters, digits, _ and -'), stageSpecSchema.partial({ uses: true }).nullable()).optional(),
});
