import type { LabelIssues } from './issues.ts';

/** What every label reader gets: where to report problems, the known classes (if any) and a reader tag. */
export interface ReadContext {
  issues: LabelIssues;
  /** Known class names; boxes and labels of other classes are `unknown_class` issues. */
  classes?: ReadonlySet<string>;
  /** Tags boxes that carry no reader of their own (several annotators' sources stay apart). */
  reader?: string;
}
