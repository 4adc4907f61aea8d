import { z } from 'zod';

export const thresholdSchema = z
  .union([
    z.literal('youden').describe("Youden's J: the ROC point maximising sensitivity + specificity − 1"),
    z.object({ fixed: z.number().describe('Scores at or above this value are positive') }).strict(),
    z
      .object({
        percentile: z.union([
          z.number().min(0).max(100),
          z
            .object({
              q: z.number().min(0).max(100).describe('Percentile (0-100), numpy linear interpolation'),
              among: z.enum(['all', 'negatives', 'positives']).default('all').describe('Whose scores: all reference rows, only truth-negative or only truth-positive ones (q 95 among negatives ≈ 95% specificity)'),
            })
            .strict(),
        ]).describe('Threshold = this percentile of the reference predictions (aneurysm-deck style)'),
      })
      .strict(),
  ])
  .describe('How each class\'s decision threshold is chosen (binary and multi-label; multi-class predicts the argmax)');

export type ThresholdSpec = z.output<typeof thresholdSchema>;
