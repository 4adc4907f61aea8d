import { registerLayerEmitter } from './registry.ts';
import { layerConfig, unsupported, type EmitContext, type Emitted } from './types.ts';

function dropout(ctx: EmitContext): Emitted {
  const { rate } = layerConfig<{ rate: number }>(ctx.layer);
  if (rate > 0) unsupported(ctx, `rate ${rate} (random masks are not emitted)`);
  return { output: ctx.inputs[0].name, backward: (dy) => ({ inputs: [dy], weights: [] }) };
}

registerLayerEmitter('Dropout', dropout);
