import { z } from 'zod';
import { defineStage, lazyRun } from '../engine/stage.ts';

const params = z
  .object({
    run: z.string().min(1).describe('Shell command. $PIPELINE_INPUTS holds one folder per input (exported like pipeline export), $PIPELINE_OUTPUT is the folder whose files become the artifact.'),
    deps: z.array(z.string()).default([]).describe('Files or folders the command reads (scripts, data), relative to the experiment file; their content joins the cache key.'),
    metrics: z.string().default('metrics.json').describe('A JSON file in $PIPELINE_OUTPUT of {name: number} or {name: [per-step numbers]}, forwarded as metrics.'),
    env: z.record(z.string(), z.string()).default({}).describe('Extra environment variables.'),
    kind: z.enum(['files', 'model', 'report', 'predictions']).default('files').describe('Kind of the output artifact.'),
  })
  .strict();

export type CommandParams = z.output<typeof params>;

/** Wraps any program (e.g. a PyTorch script on a GPU box) as a cached stage. */
export const commandStage = defineStage({
  name: 'command',
  version: 1,
  description: 'Run a shell command on materialised inputs; its output folder becomes the artifact.',
  params,
  inputs: { min: 0 },
  externalPaths: (p) => p.deps.map((path, i) => ({ param: `deps.${i}`, path })),
  run: lazyRun(() => import('./command.run.ts')),
});
