import { scalar } from '../graph-ops.ts';
import { registerOptimizer, type OptimizerConfig, type OptimizerGraph } from './registry.ts';

/**
 * tfjs's `tf.train.rmsprop(lr, decay, momentum)` (not centered), per weight:
 *   ms' = ms*decay + g^2*(1-decay);  mom' = mom*momentum + g*lr / sqrt(ms' + eps);  w' = w - mom'
 */
function rmsprop(config: OptimizerConfig, backendEpsilon: number): OptimizerGraph {
  const decay = config.decay ?? 0.9;
  const momentum = config.momentum ?? 0;
  const epsilon = config.epsilon ?? backendEpsilon;
  return {
    slots: ['rms', 'momentum'],
    scalars: [],
    emit(g, lr) {
      const d = scalar(g, decay, 'rmsprop/decay');
      const oneMinusD = scalar(g, 1 - decay, 'rmsprop/1-decay');
      const mom = scalar(g, momentum, 'rmsprop/momentum');
      const eps = scalar(g, epsilon, 'rmsprop/eps');
      return {
        update(w, [ms, moment], grad, base) {
          const ms2 = g.node('Add', [g.node('Mul', [ms, d], `${base}/ms*decay`), g.node('Mul', [g.node('Mul', [grad, grad], `${base}/g2`), oneMinusD], `${base}/g2*(1-decay)`)], `${base}/ms_next`);
          const step = g.node('Div', [g.node('Mul', [grad, lr], `${base}/g*lr`), g.node('Sqrt', [g.node('Add', [ms2, eps], `${base}/ms+eps`)], `${base}/rms`)], `${base}/step`);
          const moment2 = g.node('Add', [g.node('Mul', [moment, mom], `${base}/mom*momentum`), step], `${base}/mom_next`);
          return { value: g.node('Sub', [w, moment2], `${base}/w_next`), slots: [ms2, moment2] };
        },
        nextScalars: () => [],
      };
    },
  };
}

registerOptimizer('rmsprop', rmsprop);
