/** User-facing errors as values: message, source location, hint. Printed compiler-style. */

export interface SourceLocation {
  file: string;
  line: number;
  col: number;
  /** The command-line flag the value came from (`--set params.lr=abc`): shown instead of file:line:col. */
  flag?: string;
}

export interface Diagnostic {
  message: string;
  location?: SourceLocation;
  hint?: string;
}

/** Thrown for bad input or config (exit code 2); carries every diagnostic found, not just the first, in file order. */
export class DiagnosticError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    const sorted = sortByLocation(diagnostics);
    super(sorted.map(formatDiagnostic).join('\n'));
    this.diagnostics = sorted;
    this.name = 'DiagnosticError';
  }
}

/** By file, line and column (as a compiler lists them); diagnostics without a location keep their order, last. */
export function sortByLocation(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const key = (d: Diagnostic) => d.location;
  return [...diagnostics].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    if (!x || !y) return (x ? 0 : 1) - (y ? 0 : 1);
    return x.file.localeCompare(y.file) || x.line - y.line || x.col - y.col;
  });
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = !d.location ? '' : d.location.flag ? `command line, ${d.location.flag}: ` : `${d.location.file}:${d.location.line}:${d.location.col}: `;
  return `${where}error: ${d.message}${d.hint ? `\n  hint: ${d.hint}` : ''}`;
}

/** The closest candidate by edit distance, if it is close enough to be a plausible typo. */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
