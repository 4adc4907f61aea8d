import type { Box } from '../../data-model.ts';
import { NO_FINDING_BOX } from '../boxes/map.ts';

/**
 * How an image classifier's "No finding" probability p acts on a detector's boxes (VinBigData):
 * - `gate`: p ≥ threshold removes every box;
 * - `rescale`: every box score is multiplied by (1 − p);
 * - `filter`: the public "2-class filter" recipe on p_abnormal = 1 − p: below `low` the boxes are replaced by
 *   a `No finding` box of score 1; from `low` to below `high` a `No finding` box of score p is added; from
 *   `high` the boxes are kept as they are.
 * `gate` and `rescale` always add a `No finding` box [0, 0, 1, 1] of score p.
 */
export type NoFindingRule = { mode: 'gate'; threshold: number } | { mode: 'rescale' } | { mode: 'filter'; low: number; high: number };

/** The boxes after the rule; the detector's own `label` boxes are replaced by the classifier's. */
export function applyNoFinding(boxes: readonly Box[], pNoFinding: number, rule: NoFindingRule, label: string): Box[] {
  if (!(pNoFinding >= 0 && pNoFinding <= 1)) throw new Error(`"${label}" probability ${pNoFinding} is not in [0, 1]`);
  const findings = boxes.filter((b) => b.label !== label);
  const nf = (score: number): Box => ({ label, ...NO_FINDING_BOX, score });
  switch (rule.mode) {
    case 'gate':
      return [...(pNoFinding >= rule.threshold ? [] : findings), nf(pNoFinding)];
    case 'rescale':
      return [...findings.map((b) => ({ ...b, score: (b.score ?? 1) * (1 - pNoFinding) })), nf(pNoFinding)];
    case 'filter': {
      const abnormal = 1 - pNoFinding;
      if (abnormal < rule.low) return [nf(1)];
      if (abnormal < rule.high) return [...findings, nf(pNoFinding)];
      return findings;
    }
  }
}
