/**
 * The built-in training-graph layer emitters: importing this module registers them. A module adding a
 * layer class (e.g. a new zoo model's attention or normalisation layer) calls `registerLayerEmitter`
 * and is imported here.
 */
import './activation.ts';
import './batch-norm.ts';
import './conv.ts';
import './dense.ts';
import './dropout.ts';
import './input-normalization.ts';
import './merge.ts';
import './pooling.ts';
import './shape.ts';
import './transformer.ts';
import './zero-padding.ts';

export { layerEmitterFor, registeredLayerClasses, registerLayerEmitter } from './registry.ts';
export type { Backward, EmitContext, Emitted, LayerEmitter, LayerVariable, Value, WeightLayout } from './types.ts';
