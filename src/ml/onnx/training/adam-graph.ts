import type { OnnxGraphBuilder } from '../graph-builder.ts';
import { scalar } from './graph-ops.ts';

/**
 * tfjs's `tf.train.adam` update (adam_optimizer.js), per weight:
 *   m' = m*b1 + g*(1-b1);  v' = v*b2 + g^2*(1-b2)
 *   w' = w - lr * (m' / (1 - accB1)) / (sqrt(v' / (1 - accB2)) + eps)
 * where accB1/accB2 start at b1/b2 and are multiplied by them after each step (graph inputs and outputs).
 */
export interface AdamConfig {
  beta1: number;
  beta2: number;
  /** tfjs's default: the backend's epsilon (1e-7 for float32). */
  epsilon: number;
}

export interface AdamScalars {
  lr: string;
  accBeta1: string;
  accBeta2: string;
}

export class AdamEmitter {
  private readonly oneMinusAcc1: string;
  private readonly oneMinusAcc2: string;
  private readonly negLr: string;
  private readonly c: Record<'b1' | 'b2' | 'oneMinusB1' | 'oneMinusB2' | 'eps', string>;

  constructor(private readonly g: OnnxGraphBuilder, config: AdamConfig, private readonly scalars: AdamScalars) {
    const one = scalar(g, 1, 'adam/one');
    this.oneMinusAcc1 = g.node('Sub', [one, scalars.accBeta1], 'adam/1-acc_beta1');
    this.oneMinusAcc2 = g.node('Sub', [one, scalars.accBeta2], 'adam/1-acc_beta2');
    this.negLr = g.node('Neg', [scalars.lr], 'adam/-lr');
    this.c = {
      b1: scalar(g, config.beta1, 'adam/beta1'),
      b2: scalar(g, config.beta2, 'adam/beta2'),
      oneMinusB1: scalar(g, 1 - config.beta1, 'adam/1-beta1'),
      oneMinusB2: scalar(g, 1 - config.beta2, 'adam/1-beta2'),
      eps: scalar(g, config.epsilon, 'adam/eps'),
    };
  }

  /** The accumulated beta powers for the next step. */
  nextAccumulators(): { accBeta1: string; accBeta2: string } {
    return {
      accBeta1: this.g.node('Mul', [this.scalars.accBeta1, this.c.b1], 'adam/acc_beta1_next'),
      accBeta2: this.g.node('Mul', [this.scalars.accBeta2, this.c.b2], 'adam/acc_beta2_next'),
    };
  }

  update(w: string, m: string, v: string, grad: string, base: string): { value: string; m: string; v: string } {
    const { g, c } = this;
    const m2 = g.node('Add', [g.node('Mul', [m, c.b1], `${base}/m*b1`), g.node('Mul', [grad, c.oneMinusB1], `${base}/g*(1-b1)`)], `${base}/m_next`);
    const v2 = g.node('Add', [g.node('Mul', [v, c.b2], `${base}/v*b2`), g.node('Mul', [g.node('Mul', [grad, grad], `${base}/g2`), c.oneMinusB2], `${base}/g2*(1-b2)`)], `${base}/v_next`);
    const mHat = g.node('Div', [m2, this.oneMinusAcc1], `${base}/m_hat`);
    const vHat = g.node('Div', [v2, this.oneMinusAcc2], `${base}/v_hat`);
    const step = g.node('Div', [mHat, g.node('Add', [g.node('Sqrt', [vHat], `${base}/sqrt_v_hat`), c.eps], `${base}/denominator`)], `${base}/direction`);
    const w2 = g.node('Add', [g.node('Mul', [step, this.negLr], `${base}/delta`), w], `${base}/w_next`);
    return { value: w2, m: m2, v: v2 };
  }
}
