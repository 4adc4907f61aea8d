import { z } from 'zod';
import { trackingConfigSchema } from '../tracking/config.ts';

export const STAGE_ID_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;

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
