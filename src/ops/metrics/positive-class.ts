/**
 * The positive class of a binary model, the one whose scores evaluate's plain binary metrics (`auc`,
 * `f1`, `sensitivity`, ...) report: a single-output (sigmoid) model's only class; a 2-way softmax's
 * second class (label 1 of MedMNIST's binary sets, the finding: MedMNIST's evaluator scores its
 * column for the binary AUC). Undefined for multi-class (3+ classes) and multi-label models, which have
 * no one positive class.
 */
export function positiveClassIndex(classes: readonly string[], task: unknown): number | undefined {
  if (classes.length === 1) return 0;
  if (classes.length === 2 && task === 'multiclass') return 1;
  return undefined;
}
