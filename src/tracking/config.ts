import { z } from 'zod';

/** The `tracking:` block of an experiment file. */
export const trackingConfigSchema = z
  .object({
    experiment: z.string().optional().describe('Experiment name in the tracker (default: the experiment file name).'),
  })
  .strict();

export type TrackingConfig = z.output<typeof trackingConfigSchema>;
