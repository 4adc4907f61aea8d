/**
 * Class names that read as the negative (normal) class of a binary model, compared case-insensitively with
 * `_` / `-` read as spaces. "No finding" is the pipeline's own normal label (the anomaly detector's
 * `normal:` and evaluate's `no_finding:` default); the others are the usual spellings of "nothing there".
 */
export const NEGATIVE_CLASS_NAMES: readonly string[] = ['normal', 'no finding', 'negative', 'benign', 'healthy', '0', 'false', 'no', 'none', 'background'];

const NEGATIVE = new Set(NEGATIVE_CLASS_NAMES);

/**
 * Whether a class name reads as the negative class: one of NEGATIVE_CLASS_NAMES, or a list of them
 * joined by `,` `/` `or` (MedMNIST's BreastMNIST names its label 1 "normal, benign").
 */
export function readsAsNegative(name: string): boolean {
  const parts = name.toLowerCase().split(/,|\/|\bor\b/).map((part) => part.replace(/[\s_-]+/g, ' ').trim());
  return parts.every((part) => NEGATIVE.has(part));
}

export interface PositiveClass {
  index: number;
  /** Why this class, for the log and the report. */
  why: string;
}

/**
 * The positive class of a binary model, the one whose scores evaluate's plain binary metrics (`auc`, `f1`,
 * `sensitivity`, ...) report and gradcam explains by default: a single-output (sigmoid) model's only class;
 * for a 2-way softmax, the class that is not the negative one when exactly one of the two names reads as
 * negative (`abnormal` / `normal`, `Pneumonia` / `No finding`), else the second class (MedMNIST's label 1,
 * whose column its evaluator scores). Undefined for multi-class (3+ classes) and multi-label models, which
 * have no one positive class.
 */
export function positiveClass(classes: readonly string[], task: unknown): PositiveClass | undefined {
  if (classes.length === 1) return { index: 0, why: "the binary model's only class" };
  if (classes.length !== 2 || task !== 'multiclass') return undefined;
  const negative = classes.map(readsAsNegative);
  if (negative[0] !== negative[1]) {
    const index = negative[0] ? 1 : 0;
    return { index, why: `a 2-way softmax whose other class "${classes[1 - index]}" reads as the negative (normal) class` };
  }
  const both = negative[0] ? 'both class names read' : 'neither class name reads';
  return { index: 1, why: `a 2-way softmax's second class: ${both} as the negative (normal) class` };
}

/** The index of positiveClass (see there). */
export function positiveClassIndex(classes: readonly string[], task: unknown): number | undefined {
  return positiveClass(classes, task)?.index;
}
