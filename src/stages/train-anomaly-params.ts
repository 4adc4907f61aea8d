import { z } from 'zod';

export const AnomalyParams = z
  .object({
    normal: z.string().min(1).default('No finding').describe('Label of the normal rows: training uses only rows labelled with it alone; every other labelled row is abnormal (the positive class of the score)'),
    bottleneck: z.number().int().min(1).max(512).default(16).describe('Channels of the autoencoder\'s code, a (size/16) x (size/16) map (64 px: 16 -> a 256-number code); smaller codes generalise less to abnormal images'),
  })
  .strict();

export type AnomalyParams = z.output<typeof AnomalyParams>;
