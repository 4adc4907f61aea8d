import { z } from 'zod';

/** f-AnoGAN's settings when `method: f-anogan` leaves them out (docs/training.md, Anomaly detection). */
export const FANOGAN_DEFAULTS = { kappa: 1, gan_epochs: 100, n_critic: 5, lipschitz: 'spectral', clip: 0.01, gan_lr: 5e-5 } as const;
const FANOGAN_ONLY = Object.keys(FANOGAN_DEFAULTS) as Array<keyof typeof FANOGAN_DEFAULTS>;

export const AnomalyParams = z
  .object({
    method: z.enum(['autoencoder', 'f-anogan']).default('autoencoder').describe('autoencoder: a convolutional autoencoder scored by its reconstruction error; f-anogan: f-AnoGAN (Schlegl et al. 2019), a WGAN on the normal images then an izi_f encoder, scored by image residual + kappa * critic-feature residual'),
    normal: z.string().min(1).default('No finding').describe('Label of the normal rows: training uses only rows labelled with it alone; every other labelled row is abnormal (the positive class of the score)'),
    bottleneck: z.number().int().min(1).max(512).default(16).describe('Channels of the code, a (size/16) x (size/16) map (64 px: 16 -> a 256-number code): the autoencoder\'s code, or f-AnoGAN\'s latent z; smaller codes generalise less to abnormal images'),
    kappa: z.number().min(0).optional().describe(`f-anogan: weight of the critic-feature residual in the izi_f loss and score [${FANOGAN_DEFAULTS.kappa}]`),
    gan_epochs: z.number().int().min(1).max(100000).optional().describe(`f-anogan: epochs of WGAN training over the normal images (one critic step per batch) before the encoder's \`epochs\` [${FANOGAN_DEFAULTS.gan_epochs}]`),
    n_critic: z.number().int().min(1).max(100).optional().describe(`f-anogan: critic steps per generator step [${FANOGAN_DEFAULTS.n_critic}]`),
    lipschitz: z.enum(['spectral', 'clip']).optional().describe(`f-anogan: the critic's Lipschitz constraint after each critic step: spectral (each kernel projected to spectral norm <= 1) or clip (WGAN's weight clipping to [-clip, clip]) [${FANOGAN_DEFAULTS.lipschitz}]`),
    clip: z.number().positive().max(1).optional().describe(`f-anogan with lipschitz: clip: every critic weight is clipped to [-clip, clip] after each critic step [${FANOGAN_DEFAULTS.clip}]`),
    gan_lr: z.number().positive().max(1).optional().describe(`f-anogan: RMSProp learning rate of critic and generator [${FANOGAN_DEFAULTS.gan_lr}]`),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.method === 'f-anogan') {
      if (p.clip !== undefined && (p.lipschitz ?? FANOGAN_DEFAULTS.lipschitz) !== 'clip') ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['clip'], message: 'clip is for lipschitz: clip' });
      return;
    }
    for (const key of FANOGAN_ONLY) if (p[key] !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [key], message: `${key} is for method: f-anogan (method is ${p.method})` });
  });

export type AnomalyParams = z.output<typeof AnomalyParams>;

export type FanoganSettings = Required<Pick<AnomalyParams, keyof typeof FANOGAN_DEFAULTS>>;

/** f-AnoGAN's settings with the defaults filled in. */
export function fanoganSettings(p: AnomalyParams): FanoganSettings {
  return Object.fromEntries(FANOGAN_ONLY.map((k) => [k, p[k] ?? FANOGAN_DEFAULTS[k]])) as FanoganSettings;
}
