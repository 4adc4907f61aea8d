import { StageInputError, type StageContext, type StageInput } from '../engine/stage.ts';
import { wasmThreads } from '../ml/backend.ts';
import { buildFanogan, disposeFanogan } from '../ml/anomaly/fanogan.ts';
import type { AnomalyJobBase } from '../ml/anomaly/train-anomaly.ts';
import { trainFanogan } from '../ml/anomaly/train-fanogan.ts';
import { saveModelFiles } from '../ml/model-io.ts';
import { CheckpointStore } from '../ml/training/checkpoint.ts';
import { fanoganSettings, type AnomalyParams, type FanoganSettings } from './train-anomaly-params.ts';
import type { TrainedDetector } from './train-anomaly.run.ts';
import type { TrainParams } from './train-params.ts';

/** What f-AnoGAN cannot take (before any data is read). */
export function requireFanoganParams(params: TrainParams, init: StageInput | undefined): void {
  if (params.weights || init) throw new StageInputError(`train: method f-anogan starts from scratch (${params.weights ? `weights ${params.weights}` : `init ${init!.stage}`}): the saved scoring model lacks the critic's head, so a GAN cannot resume from it`, 'remove weights: / the init input, or use method: autoencoder');
}

/**
 * f-AnoGAN on the normal rows (`src/ml/anomaly/train-fanogan.ts`): the WGAN for `anomaly.gan_epochs`,
 * then the izi_f encoder for `epochs`, each resuming from its own checkpoints; the output is the scoring model.
 */
export async function trainFanoganDetector(ctx: StageContext, params: TrainParams, options: AnomalyParams, job: AnomalyJobBase, key: (phase: string) => string): Promise<TrainedDetector> {
  const s = fanoganSettings(options);
  const gan = buildFanogan({ inputSize: params.size, channels: params.channels, seed: params.seed, width: params.width, bottleneck: options.bottleneck, kappa: s.kappa });
  const checkpoints = { gan: new CheckpointStore(ctx.store, key('gan')), encoder: new CheckpointStore(ctx.store, key('encoder')) };
  if (ctx.forced) await Promise.all([checkpoints.gan.clear(), checkpoints.encoder.clear()]);
  job.log(`f-AnoGAN: WGAN ${s.gan_epochs} epochs (RMSProp lr ${s.gan_lr}, ${s.lipschitz === 'clip' ? `weight clipping ${s.clip}` : 'spectral-norm projection'}, ${s.n_critic} critic steps per generator step), then the izi_f encoder ${params.epochs} epochs (kappa ${s.kappa})`);
  try {
    const result = await trainFanogan({
      ...job,
      gan,
      wgan: { epochs: s.gan_epochs, lr: s.gan_lr, nCritic: s.n_critic, lipschitz: s.lipschitz, clip: s.clip },
      checkpoints,
      engine: { engine: params.engine, threads: wasmThreads() },
      onGanEpoch: (r) => {
        ctx.metric('critic_loss', r.critic_loss, r.epoch);
        if (r.generator_loss !== undefined) ctx.metric('generator_loss', r.generator_loss, r.epoch);
        ctx.log.info(`WGAN epoch ${r.epoch}/${s.gan_epochs}: critic loss ${r.critic_loss.toFixed(5)}, generator loss ${r.generator_loss?.toFixed(5) ?? '-'} (${r.generator_steps} generator steps) (${r.seconds.toFixed(1)} s)`);
      },
    });
    const files = await saveModelFiles(gan.scorer);
    return {
      files,
      result: result.encoder,
      arch: 'f-anogan',
      anomaly: {
        normal: options.normal,
        method: 'f-anogan',
        bottleneck: options.bottleneck,
        ...settingsUsed(s),
        score: 'izi_f: image residual mean square + kappa * critic-feature residual mean square',
        gan_history: result.gan.history.map((h) => ({ epoch: h.epoch, critic_loss: h.train_loss })),
      },
    };
  } finally {
    disposeFanogan(gan);
  }
}

/** The settings that shaped the model (the clipping bound only under weight clipping). */
function settingsUsed(s: FanoganSettings): Partial<FanoganSettings> {
  const { clip, ...rest } = s;
  return s.lipschitz === 'clip' ? { ...rest, clip } : rest;
}
