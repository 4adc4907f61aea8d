import type { OnnxGraphBuilder } from '../graph-builder.ts';
import { inverseCount, reduceMean, scalar } from './graph-ops.ts';

/**
 * The autoencoder's reconstruction loss (src/ml/anomaly/autoencoder.ts `reconstructionLoss`) as ONNX
 * nodes: mean over N x K of (p - y)^2 on reconstructions p and targets y [N, K], gradient 2 (p - y) / (N K).
 */
export function emitReconstructionLoss(g: OnnxGraphBuilder, pixels: number, p: string, y: string): { loss: string; dp: string } {
  const b = 'mse_loss';
  const diff = g.node('Sub', [p, y], `${b}/diff`);
  const loss = reduceMean(g, g.node('Mul', [diff, diff], `${b}/squared`), [0, 1], false, 'loss');
  const scale = g.node('Mul', [inverseCount(g, y, [pixels], [0, 1], b), scalar(g, 2, `${b}/two`)], `${b}/scale`);
  return { loss, dp: g.node('Mul', [diff, scale], `${b}/dp`) };
}
