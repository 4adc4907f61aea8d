import { z } from 'zod';

export const BoxAugmentParams = z
  .object({
    hflip: z.number().min(0).max(1).default(0.5).describe('Probability of a left-right flip'),
    vflip: z.number().min(0).max(1).default(0).describe('Probability of an up-down flip'),
    scale: z.number().min(0).max(0.9).default(0.25).describe('Scale factor drawn from [1 - scale, 1 + scale]'),
    translate: z.number().min(0).max(0.5).default(0.1).describe('Shift drawn from +-translate x the image size per axis'),
    mosaic: z.number().min(0).max(1).default(0.5).describe('Probability that a training image is a mosaic of four (YOLOv5)'),
  })
  .strict();

export const DECODE_DEFAULTS = { score_thr: 0.05, iou_thr: 0.6, nms: 'hard' as 'hard' | 'linear' | 'gaussian', sigma: 0.5, pre_nms: 1000, max_det: 100 };

/** Decoding options as written (each optional): `tta` overrides the model's training values with them. */
export const DecodeOverrides = z
  .object({
    score_thr: z.number().min(0).max(1).optional().describe('Boxes scoring below this are dropped before NMS (default .05)'),
    iou_thr: z.number().min(0).max(1).optional().describe('Class-wise NMS IoU threshold (default .6; linear soft-NMS: where decay starts)'),
    nms: z.enum(['hard', 'linear', 'gaussian']).optional().describe('hard NMS (default), or soft-NMS with linear or Gaussian decay'),
    sigma: z.number().positive().optional().describe('Gaussian soft-NMS sigma (default .5)'),
    pre_nms: z.number().int().min(1).optional().describe('Most candidates per image entering NMS (default 1000)'),
    max_det: z.number().int().min(1).optional().describe('Most boxes kept per image (default 100)'),
  })
  .strict();

/** Decoding of raw detector outputs into boxes (training validation and `tta`), defaults filled in. */
export const DecodeParams = DecodeOverrides.transform((v) => ({ ...DECODE_DEFAULTS, ...Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)) }) as typeof DECODE_DEFAULTS);

export const DetectionParams = z
  .object({
    classes: z.array(z.string()).min(1).optional().describe('Box labels to detect, in output order (default: the sorted labels of the training rows\' boxes)'),
    height: z.number().int().min(32).optional().describe('Input height, a multiple of 32 (default: size, a square input); for images of one aspect ratio a matching rectangle pads less and trains faster (4:3 at size 256: height 192)'),
    neck: z.enum(['fpn', 'pan']).default('pan').describe('fpn (top-down) or pan (top-down then bottom-up, as YOLOv5/v8)'),
    neck_channels: z.number().int().min(4).max(512).default(64).describe('Channels of the neck and heads'),
    head_convs: z.number().int().min(0).max(4).default(2).describe('3x3 conv-BN-ReLU layers per level head tower'),
    head: z.enum(['decoupled', 'shared']).default('decoupled').describe('decoupled: a class tower and a box (+ centerness) tower per level (FCOS, YOLOX); shared: one tower for both'),
    radius: z.number().positive().default(1.5).describe('Centre sampling radius of the label assignment, in strides (FCOS)'),
    level_range: z.number().positive().default(4).describe('A level of stride s is assigned boxes whose largest point-to-side distance is in (level_range * s / 2, level_range * s] (FCOS at 800 px: 8)'),
    focal: z
      .object({ alpha: z.number().min(0).max(1).default(0.25), gamma: z.number().min(0).default(2) })
      .strict()
      .default({ alpha: 0.25, gamma: 2 })
      .describe('Sigmoid focal loss of the class logits'),
    box_weight: z.number().min(0).default(1).describe('Weight of the GIoU loss'),
    augment: z
      .union([z.boolean(), BoxAugmentParams])
      .default(true)
      .transform((v) => (v === true ? BoxAugmentParams.parse({}) : v === false ? null : v))
      .describe('Box-aware augmentation: true for the defaults, false, or {hflip, vflip, scale, translate, mosaic}'),
    map_iou: z.number().min(0).max(1).default(0.5).describe('IoU threshold of the validation mAP (VOC all-point, IoU > map_iou)'),
    decode: DecodeParams.default(DECODE_DEFAULTS).describe('Decoding of validation boxes (also the default of tta)'),
  })
  .strict();

export type DetectionParams = z.output<typeof DetectionParams>;
export type DecodeParams = z.output<typeof DecodeParams>;

/** The decode params as the ml layer's options. */
export function decodeOptions(p: DecodeParams) {
  return { scoreThr: p.score_thr, iouThr: p.iou_thr, nms: p.nms, sigma: p.sigma, preNms: p.pre_nms, maxDet: p.max_det };
}
