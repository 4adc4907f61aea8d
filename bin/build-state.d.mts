export const STAMP: string;
export interface SourceState {
  files: number;
  newest: number;
  digest: string;
}
/** Path, size and modification time of every file of a source tree, as a digest (plus count and newest time). */
export function sourceStateSync(dir: string): SourceState;
export function sameSources(a: SourceState, b: SourceState): boolean;
