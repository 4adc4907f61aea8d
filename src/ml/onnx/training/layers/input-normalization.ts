import { emitInputNormalization } from '../../input-normalization.ts';
import { registerLayerEmitter } from './registry.ts';
import type { EmitContext, Emitted } from './types.ts';

/** InputNormalization in the training graph: (x - mean) / std forward, dy / std backward (no weights). */
function inputNormalization(ctx: EmitContext): Emitted {
  const { g, layer } = ctx;
  const { output, std } = emitInputNormalization(g, layer, ctx.inputs[0]);
  return {
    output,
    backward(dy, [wantInput]) {
      if (!wantInput) return { inputs: [undefined], weights: [] };
      return { inputs: [g.node('Div', [dy, std], `${layer.name}/dx`)], weights: [] };
    },
  };
}

registerLayerEmitter('InputNormalization', inputNormalization);
