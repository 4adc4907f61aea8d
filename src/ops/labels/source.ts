/** Splits `data/**\/*.dcm` into a base folder and a glob; a plain path has no glob. */
export function splitSourceGlob(source: string): { base: string; glob?: string } {
  const parts = source.split('/');
  const first = parts.findIndex((p) => /[*?{]/.test(p));
  if (first < 0) return { base: source };
  return { base: parts.slice(0, first).join('/') || '.', glob: parts.slice(first).join('/') };
}
