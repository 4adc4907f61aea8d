/** What can be wrong with a box (or an annotation file) and what happens to it. */
export type BoxIssueKind = 'malformed' | 'degenerate' | 'out_of_image' | 'unknown_class' | 'size_mismatch';

export interface BadBoxPolicy {
  /** Unreadable coordinates, a broken annotation file or record: `drop` (counted, reported) or `fail`. */
  malformed: 'drop' | 'fail';
  /** Zero or negative width or height as written in the file. */
  degenerate: 'drop' | 'fail';
  /** Partly or wholly outside the image: `clip` to the image (dropped when nothing is left), `drop`, `keep` as written, `fail`. */
  out_of_image: 'clip' | 'drop' | 'keep' | 'fail';
  /** A class outside the known classes (`classes:`, COCO categories, YOLO names). */
  unknown_class: 'drop' | 'fail';
}

export const DEFAULT_BAD_BOX_POLICY: BadBoxPolicy = { malformed: 'drop', degenerate: 'drop', out_of_image: 'clip', unknown_class: 'drop' };

export type IssueAction = 'dropped' | 'clipped' | 'kept';

export interface BoxIssue {
  kind: BoxIssueKind;
  /** File and line / object index. */
  at: string;
  /** Image id (or annotation key) the box belongs to, when known. */
  image?: string;
  message: string;
  action: IssueAction;
}

/** A problem the policy says must stop the ingest; the message is located. */
export class LabelError extends Error {}

/**
 * Collects box and annotation problems under a policy: each report is counted and kept (up to `keep`
 * entries), or throws a `LabelError` when the policy for its kind is `fail`.
 */
export class LabelIssues {
  readonly list: BoxIssue[] = [];
  readonly counts: Record<BoxIssueKind, number> = { malformed: 0, degenerate: 0, out_of_image: 0, unknown_class: 0, size_mismatch: 0 };
  readonly actions: Record<IssueAction, number> = { dropped: 0, clipped: 0, kept: 0 };

  constructor(
    readonly policy: BadBoxPolicy = DEFAULT_BAD_BOX_POLICY,
    private readonly keep = 1000,
  ) {}

  /** What the policy does with an issue of this kind (`fail` throws when reported). */
  rule(kind: BoxIssueKind): BadBoxPolicy[keyof BadBoxPolicy] | 'keep' {
    return kind === 'size_mismatch' ? 'keep' : this.policy[kind];
  }

  /**
   * Records an issue and returns what happens to the box; throws when the policy is `fail`. `outcome`
   * overrides the policy's action (a clipped box with nothing left inside the image is dropped).
   */
  report(kind: BoxIssueKind, at: string, message: string, image?: string, outcome?: IssueAction): IssueAction {
    const rule = this.rule(kind);
    if (rule === 'fail') throw new LabelError(`${at}: ${message}${image ? ` (image ${image})` : ''}`);
    const action: IssueAction = outcome ?? (rule === 'clip' ? 'clipped' : rule === 'keep' ? 'kept' : 'dropped');
    this.counts[kind]++;
    this.actions[action]++;
    if (this.list.length < this.keep) this.list.push({ kind, at, message, action, ...(image ? { image } : {}) });
    return action;
  }

  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  /** One line per issue kind, for the log. */
  summary(): string {
    return (Object.entries(this.counts) as Array<[BoxIssueKind, number]>)
      .filter(([, n]) => n > 0)
      .map(([kind, n]) => `${n} ${kind.replace(/_/g, ' ')}`)
      .join(', ');
  }
}
