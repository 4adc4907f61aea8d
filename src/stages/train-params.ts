import { z } from 'zod';
import { architectures, initSchemes, stems } from '../ml/models/architectures.ts';
import { backendParam } from '../ml/backend-param.ts';
import { normalizationProblem } from '../ml/normalize-param.ts';
import { inferenceParam } from '../ml/inference/inference-param.ts';
import { trainEngineParam } from '../ml/training/train-engine-param.ts';
import { AnomalyParams } from './train-anomaly-params.ts';
import { DetectionParams } from './train-detection-params.ts';

const focalParams = z
  .object({
    alpha: z.number().min(0).max(1).default(0.25).describe('Weight of positive terms'),
    gamma: z.number().min(0).default(2).describe('Focusing exponent'),
  })
  .strict();

const aslParams = z
  .object({
    gamma_neg: z.number().min(0).default(4).describe('Focusing exponent of negatives'),
    gamma_pos: z.number().min(0).default(1).describe('Focusing exponent of positives'),
    clip: z.number().min(0).max(1).default(0.05).describe('Probability margin shifted off negatives (p_m = max(p - clip, 0))'),
  })
  .strict();

export const LossParam = z
  .union([
    z.enum(['bce', 'ce', 'focal', 'asl']),
    z.object({ focal: focalParams }).strict(),
    z.object({ asl: aslParams }).strict(),
  ])
  .describe('bce | ce | focal (alpha .25, gamma 2) | asl (gamma_neg 4, gamma_pos 1, clip .05) | {focal: {...}} | {asl: {...}}; default ce for multi-class, else bce');

const scheduleObject = z.discriminatedUnion('type', [
  z.object({ type: z.literal('constant') }).strict(),
  z.object({ type: z.literal('step'), step_size: z.number().int().min(1).default(10).describe('Epochs between decays'), gamma: z.number().positive().default(0.1).describe('Decay factor') }).strict(),
  z
    .object({
      type: z.literal('multistep'),
      milestones: z
        .array(z.number().positive().refine((v) => v < 1 || Number.isInteger(v), 'a whole epoch number, or a fraction of the epochs below 1'))
        .min(1)
        .describe('After these epochs the rate is multiplied by gamma (PyTorch MultiStepLR); a value below 1 is a fraction of `epochs`, rounded to an epoch (MedMNIST: [0.5, 0.75])'),
      gamma: z.number().positive().default(0.1).describe('Decay factor'),
    })
    .strict(),
  z
    .object({
      type: z.literal('cosine'),
      min_lr: z.number().min(0).default(0).describe('Final learning rate'),
      warmup_epochs: z.number().int().min(0).default(0).describe('Linear warm-up epochs'),
    })
    .strict(),
  z
    .object({
      type: z.literal('plateau'),
      factor: z.number().positive().max(1).default(0.1).describe('LR multiplier when the validation loss stalls'),
      patience: z.number().int().min(0).default(2).describe('Epochs without improvement before reducing'),
      min_lr: z.number().min(0).default(1e-6).describe('Lower bound'),
    })
    .strict(),
]);

export const ScheduleParam = z
  .union([z.enum(['constant', 'step', 'cosine', 'plateau']).transform((type) => scheduleObject.parse({ type })), scheduleObject])
  .default({ type: 'constant' })
  .describe('Learning-rate schedule: constant | step | multistep | cosine | plateau (reduce on plateau of val loss), or an object with its options');

export const AugmentParams = z
  .object({
    rotation: z.number().min(0).max(180).default(10).describe('Max rotation, degrees'),
    width_shift: z.number().min(0).max(1).default(0.1).describe('Max horizontal shift, fraction of width'),
    height_shift: z.number().min(0).max(1).default(0.1).describe('Max vertical shift, fraction of height'),
    shear: z.number().min(0).max(60).default(5).describe('Max shear angle, degrees'),
    zoom: z.number().min(0).max(0.9).default(0.1).describe('Zoom in [1 - zoom, 1 + zoom]'),
    hflip: z.boolean().default(true).describe('Random left-right flips'),
    vflip: z.boolean().default(false).describe('Random up-down flips'),
    brightness: z.tuple([z.number().min(0), z.number().min(0)]).default([0.9, 1.1]).describe('Brightness factor range'),
  })
  .strict();

const mixParam = (what: string, dist: string) =>
  z
    .union([z.boolean(), z.number().min(0)])
    .default(false)
    .transform((v) => (v === true ? 1 : v === false ? 0 : v))
    .describe(`${what}: false, true (${dist} = 1) or the ${dist} parameter`);

const NormalizeParam = z
  .union([
    z.enum(['none', 'symmetric', 'imagenet']),
    z
      .object({
        mean: z.array(z.number()).min(1).describe('Per channel, or one for all'),
        std: z.array(z.number().positive()).min(1).describe('Per channel, or one for all'),
      })
      .strict(),
  ])
  .optional()
  // none and leaving it out are the same model, so the same cache key
  .transform((v) => (v === 'none' ? undefined : v))
  .describe('Input normalisation, the model\'s first layer: (x - mean) / std per channel of the [0, 1] input. none (default), symmetric ((x - 0.5) / 0.5, to [-1, 1]: MedMNIST), imagenet (mean .485 .456 .406, std .229 .224 .225, for ImageNet weights; on 1 channel their averages .449 / .226), or {mean: [...], std: [...]} with one entry per channel or one for all');

const foldParam = z
  .union([z.number().int().min(0), z.string().regex(/^\d+$/).transform(Number)])
  .optional()
  .describe('Validation fold of this instance (default: the instance foreach var `fold`; none: train on split train, validate on split val)');

export const TrainParams = z
  .object({
    model: z.enum(architectures).default('small-cnn').describe(`Architecture: ${architectures.join(', ')}`),
    width: z.number().positive().max(4).default(1).describe('Channel width multiplier (small-cnn, resnet18/34/50, csp-nano)'),
    stem: z.enum(stems).default('auto').describe('First layers of the CNNs: imagenet (7x7 stride-2 conv + max pool, or a stride-2 conv), small (3x3 stride-1 conv, no pooling: MedMNIST-style 28 px inputs), auto (small below 64 px unless ONNX weights are imported)'),
    patch: z.number().int().min(1).max(64).optional().describe('Patch size of the transformers (default vit-* 16, swin-tiny 4); the input size should be a multiple of it'),
    initializer: z.enum(initSchemes).optional().describe("Initial weights: zoo (default: Keras's He-normal convolutions, Glorot-uniform dense, zero biases) or torch (PyTorch's layer defaults, uniform in +-1/sqrt(fan_in): for recipes written for PyTorch, e.g. MedMNIST's)"),
    normalize: NormalizeParam,
    dropout: z.number().min(0).max(0.9).default(0).describe('Dropout before the classifier'),
    size: z.number().int().min(8).max(2048).default(64).describe('Input size in pixels (images are resized to size x size)'),
    channels: z.union([z.literal(1), z.literal(3)]).default(1).describe('Input channels: 1 (grey) or 3 (grey replicated / RGB)'),
    task: z.enum(['auto', 'binary', 'multiclass', 'multilabel', 'detection', 'anomaly']).default('auto').describe('auto: 1 class -> binary, a dataset declared multi-label (meta.task: an .npz with N x K labels) -> multilabel, one label per row -> multiclass, else multilabel; detection: a box detector (model = its backbone, see `detection`); anomaly: an autoencoder or f-AnoGAN trained on normal rows only, scoring `abnormal` (see `anomaly`)'),
    fold: foldParam,
    epochs: z.number().int().min(1).default(10).describe('Epochs (a rerun with more epochs resumes from the last checkpoint)'),
    batch: z.number().int().min(2).default(32).describe('Batch size'),
    optimizer: z.enum(['adam', 'sgd', 'rmsprop']).default('adam').describe('Optimizer'),
    lr: z.number().positive().default(1e-3).describe('Initial learning rate'),
    momentum: z.number().min(0).max(1).default(0.9).describe('Momentum (sgd: Nesterov; rmsprop)'),
    epsilon: z.number().positive().max(1).optional().describe("Epsilon of adam and rmsprop, added to the root of the second moment (default: tfjs's 1e-7; PyTorch's Adam and RMSprop use 1e-8)"),
    schedule: ScheduleParam,
    loss: LossParam.optional(),
    class_balanced: z
      .union([z.boolean(), z.object({ beta: z.number().min(0).max(1).default(0.9999) }).strict()])
      .default(false)
      .describe('Weight classes: the dataset meta.class_weights if present, else effective number (beta .9999) of training counts'),
    label_smoothing: z.number().min(0).max(0.5).default(0).describe('Label smoothing epsilon (typical .1)'),
    mixup: mixParam('Mixup', 'alpha'),
    cutmix: mixParam('CutMix', 'beta'),
    augment: z
      .union([z.boolean(), AugmentParams])
      .default(false)
      .transform((v) => (v === true ? AugmentParams.parse({}) : v === false ? null : v))
      .describe('Random augmentation per image: true for the defaults, or {rotation, width_shift, height_shift, shear, zoom, hflip, vflip, brightness}'),
    balanced_sampler: z.boolean().default(false).describe('Sample rows so each class is seen about equally often'),
    monitor: z.enum(['val_auc', 'val_loss', 'val_map']).default('val_auc').describe('Validation metric that picks the best checkpoint (detection: val_map unless val_loss)'),
    early_stopping: z
      .union([
        z.literal(false),
        z
          .object({
            metric: z.enum(['val_auc', 'val_loss', 'val_map']).optional().describe('Defaults to monitor'),
            patience: z.number().int().min(1).default(5).describe('Epochs without improvement before stopping'),
          })
          .strict(),
      ])
      .default(false)
      .describe('Stop when the validation metric has not improved for `patience` epochs'),
    seed: z.number().int().min(0).default(42).describe('Seed of initialisation, sampling and augmentation'),
    weights: z.string().optional().describe('Weights to start from: an ONNX export of a torchvision/timm model (.onnx, mapped onto the architecture by graph structure) or a tfjs model.json (weights next to it; layers with the same name and shapes are copied)'),
    workers: z.number().int().min(1).max(64).default(1).describe('Threads computing each batch (data-parallel over worker threads; 2 uses both cores of a 2-core machine for one fold)'),
    backend: backendParam,
    engine: trainEngineParam,
    inference: inferenceParam,
    cache_mb: z.number().int().min(0).default(2048).describe('Memory for decoded images kept across epochs'),
    detection: DetectionParams.optional().describe("Detector options (task: detection): neck, head, label assignment, loss, box augmentation, decoding; defaults when omitted"),
    anomaly: AnomalyParams.optional().describe('Anomaly detector options (task: anomaly): the method, the normal label, the code size, f-AnoGAN\'s WGAN settings; defaults when omitted'),
  })
  .strict()
  .superRefine((p, ctx) => {
    const problem = normalizationProblem(p.normalize, p.channels);
    if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['normalize', problem.key], message: problem.message });
  });

export type TrainParams = z.output<typeof TrainParams>;

/** Version of the train stage: bump when the model it produces for the same inputs changes. */
export const TRAIN_VERSION = 4; // 2: torchvision's padding for strided convs and stem pooling; 3: swin-tiny's torchvision init, bce / ce from the logits; 4: focal / asl and val_loss from the logits
