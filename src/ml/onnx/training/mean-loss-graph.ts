import type { OnnxGraphBuilder } from '../graph-builder.ts';
import { reduceMean, scalar } from './graph-ops.ts';
import type { OutputsTrainLoss } from './train-graph.ts';

/**
 * loss = sum_i weights[i] * mean(output_i) over a model's outputs (each [N, K]), without targets: the
 * WGAN's critic loss (mean D(G(z)) - mean D(x): weights [-1, 1] on [D(x), D(G(z))]), its generator loss
 * (-mean D(G(z))) and f-AnoGAN's encoder loss (the mean izi_f score). d loss / d output_i = weights[i] / (N K).
 */
export function meanCombinationLoss(weights: readonly number[]): OutputsTrainLoss {
  return {
    outputs: 'all',
    emit(g: OnnxGraphBuilder, outputs: readonly string[]) {
      if (outputs.length !== weights.length) throw new Error(`a loss of ${weights.length} outputs for a model of ${outputs.length}`);
      const terms = outputs.map((p, i) => g.node('Mul', [reduceMean(g, p, [0, 1], false, `mean_loss/mean_${i}`), scalar(g, weights[i], `mean_loss/weight_${i}`)], `mean_loss/term_${i}`));
      const loss = terms.slice(1).reduce((sum, t) => g.node('Add', [sum, t], 'mean_loss/sum'), terms[0]);
      const dps = outputs.map((p, i) => {
        const shape = g.node('Shape', [p], `mean_loss/shape_${i}`);
        const count = g.node('Cast', [g.node('ReduceProd', [shape], `mean_loss/count_i_${i}`, [{ name: 'keepdims', int: 0 }])], `mean_loss/count_${i}`, [{ name: 'to', int: 1 }]);
        return g.node('Expand', [g.node('Div', [scalar(g, weights[i], `mean_loss/weight_${i}`), count], `mean_loss/grad_${i}`), shape], `mean_loss/dp_${i}`);
      });
      return { loss: g.node('Identity', [loss], 'loss'), dps };
    },
  };
}
