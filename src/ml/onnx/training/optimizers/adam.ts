import { scalar } from '../graph-ops.ts';
import { registerOptimizer, type OptimizerConfig, type OptimizerGraph } from './registry.ts';

/**
 * tfjs's `tf.train.adam` (adam_optimizer.js), per weight:
 *   m' = m*b1 + g*(1-b1);  v' = v*b2 + g^2*(1-b2)
 *   w' = w - lr * (m' / (1 - accB1)) / (sqrt(v' / (1 - accB2)) + eps)
 * where accB1/accB2 start at b1/b2 and are multiplied by them after each step.
 */
function adam(config: OptimizerConfig, backendEpsilon: number): OptimizerGraph {
  const beta1 = config.beta1 ?? 0.9;
  const beta2 = config.beta2 ?? 0.999;
  const epsilon = config.epsilon ?? backendEpsilon;
  return {
    slots: ['m', 'v'],
    scalars: [
      // without the exact value (a tfjs checkpoint): beta^(iterations + 1) rounded as the graph accumulates
      // it (a float32 Mul per step), so a resumed run continues bit for bit (Math.pow differs in the last bits)
      { key: 'acc_beta1', before: (iterations) => float32Power(beta1, iterations + 1) },
      { key: 'acc_beta2', before: (iterations) => float32Power(beta2, iterations + 1) },
    ],
    emit(g, lr, [accBeta1, accBeta2]) {
      const one = scalar(g, 1, 'adam/one');
      const oneMinusAcc1 = g.node('Sub', [one, accBeta1], 'adam/1-acc_beta1');
      const oneMinusAcc2 = g.node('Sub', [one, accBeta2], 'adam/1-acc_beta2');
      const negLr = g.node('Neg', [lr], 'adam/-lr');
      const b1 = scalar(g, beta1, 'adam/beta1');
      const b2 = scalar(g, beta2, 'adam/beta2');
      const oneMinusB1 = scalar(g, 1 - beta1, 'adam/1-beta1');
      const oneMinusB2 = scalar(g, 1 - beta2, 'adam/1-beta2');
      const eps = scalar(g, epsilon, 'adam/eps');
      return {
        update(w, [m, v], grad, base) {
          const m2 = g.node('Add', [g.node('Mul', [m, b1], `${base}/m*b1`), g.node('Mul', [grad, oneMinusB1], `${base}/g*(1-b1)`)], `${base}/m_next`);
          const v2 = g.node('Add', [g.node('Mul', [v, b2], `${base}/v*b2`), g.node('Mul', [g.node('Mul', [grad, grad], `${base}/g2`), oneMinusB2], `${base}/g2*(1-b2)`)], `${base}/v_next`);
          const mHat = g.node('Div', [m2, oneMinusAcc1], `${base}/m_hat`);
          const vHat = g.node('Div', [v2, oneMinusAcc2], `${base}/v_hat`);
          const direction = g.node('Div', [mHat, g.node('Add', [g.node('Sqrt', [vHat], `${base}/sqrt_v_hat`), eps], `${base}/denominator`)], `${base}/direction`);
          return { value: g.node('Add', [g.node('Mul', [direction, negLr], `${base}/delta`), w], `${base}/w_next`), slots: [m2, v2] };
        },
        nextScalars: () => [g.node('Mul', [accBeta1, b1], 'adam/acc_beta1_next'), g.node('Mul', [accBeta2, b2], 'adam/acc_beta2_next')],
      };
    },
  };
}

registerOptimizer('adam', adam);

/** beta^n as n - 1 float32 multiplications from float32(beta), the way the step graph's Mul accumulates it. */
function float32Power(beta: number, n: number): number {
  const b = Math.fround(beta);
  let power = b;
  for (let i = 1; i < n; i++) power = Math.fround(power * b);
  return power;
}
