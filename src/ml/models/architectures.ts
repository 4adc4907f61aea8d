/** The model zoo's architecture names (kept apart from the models so params schemas load without tfjs). */
export const architectures = ['small-cnn', 'resnet18', 'resnet34', 'resnet50', 'densenet121', 'mobilenetv2', 'efficientnet-b0', 'csp-nano', 'vit-tiny', 'vit-small', 'swin-tiny'] as const;
export type Architecture = (typeof architectures)[number];

/**
 * The first layers of a CNN: `imagenet` (the torchvision stem: 7x7 stride-2 conv and 3x3 stride-2 max
 * pool for ResNets/DenseNet, a stride-2 3x3 conv for MobileNetV2/EfficientNet: 1/4 or 1/2 of the
 * resolution is gone after the first layer) or `small` (one 3x3 stride-1 conv, no pooling: MedMNIST's
 * ResNets for 28 px inputs, CIFAR ResNets).
 */
export const stems = ['auto', 'imagenet', 'small'] as const;
export type StemOption = (typeof stems)[number];
export type Stem = Exclude<StemOption, 'auto'>;

/** Below this input size `auto` picks the small stem. */
export const SMALL_STEM_BELOW = 64;

/**
 * `auto`: `small` below 64 px, else `imagenet`; imported ImageNet weights (`weights: x.onnx`) keep the
 * `imagenet` stem their first layer was trained with.
 */
export function resolveStem(option: StemOption, inputSize: number, importsWeights = false): Stem {
  if (option !== 'auto') return option;
  return inputSize < SMALL_STEM_BELOW && !importsWeights ? 'small' : 'imagenet';
}

/**
 * Initial weights: `zoo` (Keras's: He-normal convolutions, Glorot-uniform dense kernels, zero biases) or
 * `torch` (PyTorch's layer defaults: kernels and biases uniform in +-1/sqrt(fan_in), i.e. kaiming_uniform
 * with a = sqrt(5)), which recipes written for PyTorch assume (MedMNIST's ResNets).
 */
export const initSchemes = ['zoo', 'torch'] as const;
export type InitScheme = (typeof initSchemes)[number];

/** The transformers' default patch size (ViT 16, Swin 4); `patch` overrides it. */
export function defaultPatch(arch: Architecture): number | undefined {
  if (arch === 'vit-tiny' || arch === 'vit-small') return 16;
  if (arch === 'swin-tiny') return 4;
  return undefined;
}
