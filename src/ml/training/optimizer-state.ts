import * as tf from '../tf.ts';

/** tfjs's optimizer state entry (tfjs-core's NamedTensor). */
export type NamedTensor = { name: string; tensor: tf.Tensor };

/**
 * Optimizer state as checkpointed: tfjs's `getWeights()` list (iteration count, then the per-weight
 * slots), followed by `exact:<key>` entries holding scalar state that tfjs's `setWeights` would
 * recompute instead of restore. Adam's accumulated beta powers are the case: after n steps they are
 * beta^n as a running float32 product, which differs in the last bits from the beta^(n+1) that
 * `setWeights` computes, so a resumed run drifted away from an uninterrupted one.
 */
export const EXACT_PREFIX = 'exact:';

export function splitExactState(list: readonly NamedTensor[]): { tfjs: NamedTensor[]; exact: Map<string, tf.Tensor> } {
  const tfjs: NamedTensor[] = [];
  const exact = new Map<string, tf.Tensor>();
  for (const t of list) {
    if (t.name.startsWith(EXACT_PREFIX)) exact.set(t.name.slice(EXACT_PREFIX.length), t.tensor);
    else tfjs.push(t);
  }
  return { tfjs, exact };
}

interface AdamInternals {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
}

const adamInternals = (optimizer: tf.Optimizer): AdamInternals | undefined => {
  const o = optimizer as unknown as Partial<AdamInternals>;
  return optimizer.getClassName() === 'Adam' && o.accBeta1 && o.accBeta2 ? (o as AdamInternals) : undefined;
};

/** A tfjs optimizer's state with its exact scalars (the caller disposes tensors that are not the optimizer's variables). */
export async function tfjsOptimizerState(optimizer: tf.Optimizer): Promise<NamedTensor[]> {
  const list = await optimizer.getWeights();
  const adam = adamInternals(optimizer);
  if (adam) list.push({ name: `${EXACT_PREFIX}acc_beta1`, tensor: adam.accBeta1.clone() }, { name: `${EXACT_PREFIX}acc_beta2`, tensor: adam.accBeta2.clone() });
  return list;
}

/** Restores what `tfjsOptimizerState` (or the ONNX Runtime trainer) gave; older checkpoints without exact scalars restore as tfjs does. */
export async function restoreTfjsOptimizerState(optimizer: tf.Optimizer, list: readonly NamedTensor[]): Promise<void> {
  const { tfjs, exact } = splitExactState(list);
  if (tfjs.length > 0) await optimizer.setWeights(tfjs);
  const adam = adamInternals(optimizer);
  if (!adam) return;
  const beta1 = exact.get('acc_beta1');
  const beta2 = exact.get('acc_beta2');
  if (beta1) adam.accBeta1.assign(beta1.reshape([]));
  if (beta2) adam.accBeta2.assign(beta2.reshape([]));
}
