export const STAMP: string;
/** `{ files, newest }` of a source tree: how many files, and the newest modification time among them. */
export function sourceStateSync(dir: string): { files: number; newest: number };
