import { DataType, type OnnxAttribute, type OnnxNode, type OnnxTensor } from './onnx-model.ts';

/** Collects the nodes and constant tensors of an ONNX graph under unique value names. */
export class OnnxGraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private readonly names = new Set<string>();

  /** `base`, or `base_2`, `base_3`, ... if taken. */
  unique(base: string): string {
    let name = base;
    for (let i = 2; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  /** Claims a name given from outside (a graph input): later `unique` calls avoid it. */
  reserve(name: string): string {
    if (this.names.has(name)) throw new Error(`ONNX value name ${name} is taken`);
    this.names.add(name);
    return name;
  }

  floats(base: string, dims: readonly number[], data: Float32Array): string {
    const name = this.unique(base);
    this.initializers.push({ name, dims, dataType: DataType.FLOAT, data });
    return name;
  }

  int64s(base: string, values: readonly number[]): string {
    const name = this.unique(base);
    this.initializers.push({ name, dims: [values.length], dataType: DataType.INT64, data: values });
    return name;
  }

  /** Adds a single-output node; returns its output's name. */
  node(opType: string, inputs: readonly string[], output: string, attributes: readonly OnnxAttribute[] = []): string {
    const name = this.unique(output);
    this.nodes.push({ opType, inputs, outputs: [name], name, attributes });
    return name;
  }
}
