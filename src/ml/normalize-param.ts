/**
 * Input normalisation a model applies to its [0, 1] input as its first layer: y = (x - mean) / std per
 * channel. Kept free of tfjs so that the train params schema can check it.
 */

/** (x - mean) / std per channel, one entry per input channel. */
export interface InputNormalization {
  mean: number[];
  std: number[];
}

/**
 * The named normalisations: `symmetric` maps [0, 1] to [-1, 1] (MedMNIST's `Normalize(mean=[.5],
 * std=[.5])`); `imagenet` is torchvision's / timm's ImageNet mean and std (RGB order), which weights
 * trained on ImageNet expect.
 */
export const NORMALIZATION_PRESETS = {
  symmetric: { mean: [0.5], std: [0.5] },
  imagenet: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
} as const satisfies Record<string, InputNormalization>;

export type NormalizationPreset = keyof typeof NORMALIZATION_PRESETS;
export type NormalizationOption = 'none' | NormalizationPreset | InputNormalization;

/**
 * Why `option` does not fit `channels` input channels (undefined when it does): an explicit mean / std
 * needs one entry per channel or one for all.
 */
export function normalizationProblem(option: NormalizationOption | undefined, channels: number): { key: 'mean' | 'std'; message: string } | undefined {
  if (option === undefined || typeof option === 'string') return undefined;
  for (const key of ['mean', 'std'] as const) {
    const n = option[key].length;
    if (n !== 1 && n !== channels) return { key, message: `${key} has ${n} entries for ${channels} input channel${channels === 1 ? '' : 's'} (give ${channels === 1 ? 'one' : `${channels}, or one for all`})` };
  }
  return undefined;
}

/**
 * The per-channel mean and std of an option for `channels` input channels (undefined for none). One
 * entry is used for every channel. `imagenet` on 1-channel (grey) input uses the mean of its three means
 * and of its three stds (0.449, 0.226): a grey image stands for R = G = B, whose channels ImageNet
 * weights would see normalised by nearly these values.
 */
export function resolveNormalization(option: NormalizationOption | undefined, channels: number): InputNormalization | undefined {
  if (option === undefined || option === 'none') return undefined;
  const problem = normalizationProblem(option, channels);
  if (problem) throw new Error(`normalize: ${problem.message}`);
  const { mean, std } = typeof option === 'string' ? NORMALIZATION_PRESETS[option] : option;
  const perChannel = (values: readonly number[]) => {
    if (values.length === channels) return [...values];
    const one = values.length === 1 ? values[0] : values.reduce((a, b) => a + b, 0) / values.length;
    return Array.from({ length: channels }, () => one);
  };
  return { mean: perChannel(mean), std: perChannel(std) };
}
