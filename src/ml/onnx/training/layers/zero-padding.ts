import { emitZeroPadding, zeroPaddingPads } from '../../zero-padding.ts';
import { registerLayerEmitter } from './registry.ts';
import type { EmitContext, Emitted } from './types.ts';

/** ZeroPadding2D in the training graph: Pad forward, the un-padded window of dy (a Slice) backward. */
function zeroPadding2d(ctx: EmitContext): Emitted {
  const { g, layer } = ctx;
  const [, , top, left] = zeroPaddingPads(layer);
  const [, h, w] = ctx.inputs[0].shape as number[];
  return {
    output: emitZeroPadding(g, layer, ctx.inputs[0].name),
    backward(dy, [wantInput]) {
      if (!wantInput) return { inputs: [undefined], weights: [] };
      const base = layer.name;
      const dx = g.node('Slice', [dy, g.int64s(`${base}/starts`, [top, left]), g.int64s(`${base}/ends`, [top + h, left + w]), g.int64s(`${base}/axes`, [2, 3])], `${base}/dx`);
      return { inputs: [dx], weights: [] };
    },
  };
}

registerLayerEmitter('ZeroPadding2D', zeroPadding2d);
