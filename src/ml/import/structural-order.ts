/**
 * A deterministic order of a computation graph's nodes that depends only on its structure: depth-first
 * from the output, each node after its inputs. Inputs are visited in order, except at commutative
 * nodes (Add, Sum, Mul), where the input with more not-yet-visited weight-bearing nodes behind it comes
 * first (a residual block's main branch before its projection shortcut, whichever way `a + b` was
 * written). Two graphs of the same network, however exported, give their weight-bearing nodes in the
 * same order.
 */
export interface GraphView<N> {
  /** The nodes producing this node's inputs (undefined for a graph input or a constant). */
  inputs(node: N): Array<N | undefined>;
  carriesWeights(node: N): boolean;
  commutative(node: N): boolean;
}

export function structuralOrder<N>(output: N, graph: GraphView<N>): N[] {
  const order: N[] = [];
  const visited = new Set<N>();
  const pending = (start: N): number => {
    const seen = new Set<N>();
    const stack = [start];
    let count = 0;
    while (stack.length) {
      const n = stack.pop()!;
      if (visited.has(n) || seen.has(n)) continue;
      seen.add(n);
      if (graph.carriesWeights(n)) count++;
      for (const i of graph.inputs(n)) if (i) stack.push(i);
    }
    return count;
  };
  // Iterative post-order (deep networks would overflow the call stack).
  const stack: Array<{ node: N; expanded: boolean }> = [{ node: output, expanded: false }];
  while (stack.length) {
    const top = stack.pop()!;
    if (visited.has(top.node)) continue;
    if (top.expanded) {
      visited.add(top.node);
      order.push(top.node);
      continue;
    }
    stack.push({ node: top.node, expanded: true });
    let inputs = graph.inputs(top.node).filter((i): i is N => i !== undefined);
    if (graph.commutative(top.node) && inputs.length > 1) {
      const weighted = inputs.map((n, k) => ({ n, k, w: pending(n) }));
      weighted.sort((a, b) => b.w - a.w || a.k - b.k);
      inputs = weighted.map((x) => x.n);
    }
    for (let i = inputs.length - 1; i >= 0; i--) if (!visited.has(inputs[i])) stack.push({ node: inputs[i], expanded: false });
  }
  return order;
}
