import { z } from 'zod';
import { defineStage, lazyRun } from '../engine/stage.ts';
import { backendParam } from '../ml/backend-param.ts';

const params = z
  .object({
    class: z
      .string()
      .optional()
      .describe("Class whose score is explained. Default: a binary model's positive class, as evaluate's plain auc/f1 (the one an evaluate report input took, set by its positive:; else a single-output model's one class, a 2-way softmax's class whose partner reads as the negative class (normal, No finding, ...), else its second class, e.g. MedMNIST's label 1); a multi-class or multi-label model's first class"),
    layer: z.string().optional().describe('Layer to look at (default: the zoo models\' `features` layer = last conv block, else the last 4-D layer)'),
    split: z.enum(['test', 'val', 'all']).default('test').describe('Rows to sample from'),
    per_group: z.number().int().min(1).max(100).default(4).describe('Images per group: true/false positives and negatives'),
    threshold: z
      .number()
      .optional()
      .describe("Score at or above which a prediction is positive. Default: multi-class models: none, positive = the class with the highest score (argmax, as evaluate); else the threshold evaluate chose for the class (`threshold/<class>` of an evaluate report input, so that the TP/FP/FN/TN groups agree with its confusion matrix), else 0.5"),
    seed: z.number().int().default(0).describe('Seed of the sampling'),
    display_size: z.number().int().min(32).max(2048).default(256).describe('Width of the overlay PNGs (height keeps the aspect)'),
    alpha: z.number().min(0).max(1).default(0.45).describe('Heat map opacity at the hottest pixels'),
    backend: backendParam,
  })
  .strict();

export type GradcamParams = z.output<typeof params>;

export const gradcam = defineStage({
  name: 'gradcam',
  version: 5,
  description: 'Grad-CAM heat maps over a model layer, overlaid on the images, for a sample of true/false positives and negatives (gallery report)',
  params,
  inputs: { min: 2, max: 4 },
  run: lazyRun(() => import('./gradcam.run.ts')),
});
