import { StageInputError } from '../engine/stage.ts';
import { positiveClass, type PositiveClass } from '../ops/metrics/positive-class.ts';

/**
 * A binary model's positive class: the one the user named (`positive:` of `stage`), checked against the
 * classes, else the shared rule (positiveClass). Undefined for a model without one positive class.
 */
export function choosePositiveClass(classes: readonly string[], task: unknown, named: string | undefined, stage: string): PositiveClass | undefined {
  const byRule = positiveClass(classes, task);
  if (named === undefined) return byRule;
  const index = classes.indexOf(named);
  if (index < 0) throw new StageInputError(`${stage}: positive "${named}" is not one of the classes [${classes.join(', ')}]`, 'set positive: to one of them (the names are case-sensitive)');
  if (!byRule) throw new StageInputError(`${stage}: positive "${named}" is for a binary model (one sigmoid output or a 2-way softmax); this ${String(task)} model has ${classes.length} classes and no one positive class`, 'remove positive: (per-class metrics are reported as <metric>/<class>)');
  return { index, why: 'positive param' };
}
