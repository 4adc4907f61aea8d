import { scalar } from '../graph-ops.ts';
import { registerOptimizer, type OptimizerConfig, type OptimizerGraph } from './registry.ts';

/**
 * The train stage's `sgd`: tfjs's `tf.train.sgd` (w' = -lr*g + w) without momentum, else
 * `tf.train.momentum(lr, momentum, useNesterov = true)`: a' = momentum*a + g, w' = -lr*(g + a'*momentum) + w.
 */
function sgd(config: OptimizerConfig): OptimizerGraph {
  const momentum = config.momentum ?? 0;
  if (momentum === 0) {
    return {
      slots: [],
      scalars: [],
      emit(g, lr) {
        const c = g.node('Neg', [lr], 'sgd/-lr');
        return { update: (w, _slots, grad, base) => ({ value: g.node('Add', [g.node('Mul', [c, grad], `${base}/delta`), w], `${base}/w_next`), slots: [] }), nextScalars: () => [] };
      },
    };
  }
  return {
    slots: ['momentum'],
    scalars: [],
    emit(g, lr) {
      const c = g.node('Neg', [lr], 'momentum/-lr');
      const m = scalar(g, momentum, 'momentum/m');
      return {
        update(w, [accumulation], grad, base) {
          const next = g.node('Add', [g.node('Mul', [m, accumulation], `${base}/m*a`), grad], `${base}/a_next`);
          const lookAhead = g.node('Add', [grad, g.node('Mul', [next, m], `${base}/a*m`)], `${base}/nesterov`);
          return { value: g.node('Add', [g.node('Mul', [c, lookAhead], `${base}/delta`), w], `${base}/w_next`), slots: [next] };
        },
        nextScalars: () => [],
      };
    },
  };
}

registerOptimizer('sgd', sgd);
