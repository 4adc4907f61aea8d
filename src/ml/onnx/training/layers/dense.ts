import { reduceSum, reshape } from '../graph-ops.ts';
import { emitActivation } from './activation.ts';
import { registerLayerEmitter } from './registry.ts';
import { layerConfig, unsupported, type EmitContext, type Emitted, type LayerVariable } from './types.ts';

/**
 * Dense on [N, D]. Its products put a weight in Gemm's transposed A slot (MLAS then never resizes its K
 * blocks by the thread's share of N, so the bits do not depend on the thread count; graph-ops.ts, thread-invariant products):
 * y^T = W^T x^T, dx^T = (W^T)^T dz^T with W^T materialised (a Reshape keeps ORT from folding that
 * Transpose back into the Gemm), dW = x^T dz.
 */
function dense(ctx: EmitContext): Emitted {
  const { g, layer } = ctx;
  const c = layerConfig<{ activation: string; useBias: boolean }>(layer);
  if (ctx.inputs[0].shape.length !== 2) unsupported(ctx, `input of rank ${ctx.inputs[0].shape.length} (only rank 2)`);
  const [kernelVar, biasVar] = layer.weights; // trainable or not: ctx.weight gives a frozen one as an input or a constant
  if (!kernelVar || (c.useBias && !biasVar)) unsupported(ctx, 'weights not built');
  const [din, dout] = kernelVar.shape as number[];
  const kernel = ctx.weight(kernelVar);
  const bias = c.useBias ? ctx.weight(biasVar) : undefined;
  const base = layer.name;
  const x = ctx.inputs[0].name;
  const transposeBack = (t: string, rows: number, name: string) => g.node('Transpose', [reshape(g, t, [rows, -1], `${name}_t`)], name, [{ name: 'perm', ints: [1, 0] }]);
  const yT = g.node('Gemm', [kernel, x], `${base}/matmul_t`, [{ name: 'transA', int: 1 }, { name: 'transB', int: 1 }]); // [Dout, N]
  const linear = transposeBack(yT, dout, `${base}/matmul`);
  const z = bias ? g.node('Add', [linear, bias], base) : linear;
  const act = emitActivation(ctx, z, c.activation, `${base}/${c.activation}`);
  return {
    output: act.y,
    backward(dy, [wantInput]) {
      const dz = act.grad(dy);
      const weights: [LayerVariable, string][] = [[kernelVar, g.node('Gemm', [x, dz], `${base}/dkernel`, [{ name: 'transA', int: 1 }])]];
      if (bias) weights.push([biasVar, reduceSum(g, dz, [0], false, `${base}/dbias`)]);
      if (!wantInput) return { inputs: [undefined], weights };
      const kernelT = reshape(g, g.node('Transpose', [kernel], `${base}/kernel_t`, [{ name: 'perm', ints: [1, 0] }]), [dout, din], `${base}/kernel_t2`);
      const dxT = g.node('Gemm', [kernelT, dz], `${base}/dx_t`, [{ name: 'transA', int: 1 }, { name: 'transB', int: 1 }]); // [Din, N]
      return { inputs: [transposeBack(dxT, din, `${base}/dx`)], weights };
    },
  };
}

registerLayerEmitter('Dense', dense);
