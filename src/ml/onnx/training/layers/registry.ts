import type { LayerEmitter } from './types.ts';

/**
 * The one registry of training-graph layer emitters, by tfjs class name (`layer.getClassName()`; our
 * LeanConv2D / FastBatchNormalization register as Conv2D / BatchNormalization). A new layer class
 * trains on ONNX Runtime once a module registers its emitter and `layers/index.ts` imports that module.
 */
const emitters = new Map<string, LayerEmitter>();

export function registerLayerEmitter(className: string, emitter: LayerEmitter): void {
  if (emitters.has(className)) throw new Error(`a training-graph emitter for layer class ${className} is already registered`);
  emitters.set(className, emitter);
}

export function layerEmitterFor(className: string): LayerEmitter | undefined {
  return emitters.get(className);
}

/** The layer classes the training graph can differentiate (for messages and docs). */
export function registeredLayerClasses(): string[] {
  return [...emitters.keys()].sort();
}
