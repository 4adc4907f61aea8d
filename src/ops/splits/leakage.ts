/** Groups (patients) whose items fall in more than one part, with the parts they span. */
export function groupsInSeveralParts(groups: readonly string[], parts: readonly (string | number)[]): Array<{ group: string; parts: Array<string | number> }> {
  const seen = new Map<string, Set<string | number>>();
  groups.forEach((g, i) => {
    let s = seen.get(g);
    if (!s) seen.set(g, (s = new Set()));
    s.add(parts[i]);
  });
  return [...seen].filter(([, s]) => s.size > 1).map(([group, s]) => ({ group, parts: [...s] }));
}
