import { encodeModel, type OnnxNode, type OnnxValueInfo } from '../onnx-model.ts';
import type { TrainGraph } from './train-graph.ts';

/** K optimizer steps in one graph: per step its batch inputs and its loss (step order). */
export interface MultiStepGraph {
  bytes: Uint8Array;
  steps: number;
  /** Per step: the model inputs' names (`TrainGraph.inputs` order), the target's, the loss output's. */
  perStep: { inputs: string[]; target?: string; loss: string }[];
}

/**
 * `steps` copies of a train step chained in one graph (one `session.run` then copies the state out once
 * instead of once per step: onnxruntime-node copies every output into a fresh ArrayBuffer). Step k's
 * next parameters, optimizer slots and scalars and moving statistics are step k+1's; the learning rate,
 * frozen inputs and constants are shared. The last copy keeps the step graph's names, so the state
 * inputs and outputs are those of `graph`; the others are prefixed `k<index>/`, their batch inputs too.
 * The nodes of each copy are the step's own, so each step computes what a single step would.
 */
export function unrollTrainGraph(graph: TrainGraph, steps: number): MultiStepGraph {
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`steps per run: a positive integer, got ${steps}`);
  if (graph.gradients) throw new Error('a graph exposing its gradients runs one step per run');
  const { onnx } = graph;
  const pairs = [...[graph.params, ...graph.slots].flatMap((b) => b.chunks), ...(graph.stats ? [graph.stats] : []), ...graph.optimizerScalars];
  const nextOf = new Map(pairs.map((p) => [p.value, p.next]));
  const batchInputs = new Set([...graph.inputs.map((i) => i.name), ...(graph.target ? [graph.target] : [])]);
  const shared = new Set([...onnx.graph.initializers.map((t) => t.name), ...onnx.graph.inputs.map((i) => i.name).filter((n) => !batchInputs.has(n) && !nextOf.has(n))]);

  const nodes: OnnxNode[] = [];
  const inputs: OnnxValueInfo[] = [];
  const lossInfo = onnx.graph.outputs.find((o) => o.name === graph.loss)!;
  const lossOutputs: OnnxValueInfo[] = [];
  const perStep: MultiStepGraph['perStep'] = [];
  let previous: ((name: string) => string) | undefined;
  for (let k = 0; k < steps; k++) {
    const prefix = k === steps - 1 ? '' : `k${k}/`;
    const before = previous;
    const rename = (name: string): string => {
      if (name === '' || shared.has(name)) return name;
      const next = nextOf.get(name);
      if (next !== undefined) return before ? before(next) : name;
      return prefix + name;
    };
    for (const node of onnx.graph.nodes) nodes.push({ ...node, inputs: node.inputs.map(rename), outputs: node.outputs.map(rename), name: node.name === undefined ? undefined : prefix + node.name });
    for (const input of onnx.graph.inputs) if (batchInputs.has(input.name)) inputs.push({ ...input, name: rename(input.name) });
    if (prefix) lossOutputs.push({ ...lossInfo, name: rename(graph.loss) });
    perStep.push({ inputs: graph.inputs.map((i) => rename(i.name)), target: graph.target && rename(graph.target), loss: rename(graph.loss) });
    previous = rename;
  }
  const otherInputs = onnx.graph.inputs.filter((i) => !batchInputs.has(i.name));
  const bytes = encodeModel({
    ...onnx,
    graph: { ...onnx.graph, name: `${onnx.graph.name}_x${steps}`, nodes, inputs: [...otherInputs, ...inputs], outputs: [...lossOutputs, ...onnx.graph.outputs] },
  });
  return { bytes, steps, perStep };
}
