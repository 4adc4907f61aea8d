import { DataType, type OnnxAttribute, type OnnxNode, type OnnxTensor } from './onnx-model.ts';

/** Constants up to this many elements are shared by content when the builder is asked to. */
const SHARED_CONSTANT_MAX = 16;

/**
 * Collects the nodes and constant tensors of an ONNX graph under unique value names. With
 * `shareConstants`, small constants of equal content (axes, shapes, scalars) are one initializer: the
 * training graphs asked for thousands of identical ones, each costing ONNX Runtime time at load.
 */
export class OnnxGraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private readonly names = new Set<string>();
  private readonly shared = new Map<string, string>();
  private readonly memos = new Map<string, string>();

  constructor(private readonly options: { shareConstants?: boolean } = {}) {}

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
    return this.constant(base, `f${dims.join('x')}:${data.length <= SHARED_CONSTANT_MAX ? data.join(',') : ''}`, data.length, (name) => ({ name, dims, dataType: DataType.FLOAT, data }));
  }

  int64s(base: string, values: readonly number[]): string {
    return this.constant(base, `i${values.length}:${values.join(',')}`, values.length, (name) => ({ name, dims: [values.length], dataType: DataType.INT64, data: values }));
  }

  private constant(base: string, key: string, size: number, tensor: (name: string) => OnnxTensor): string {
    const share = this.options.shareConstants && size <= SHARED_CONSTANT_MAX;
    const existing = share ? this.shared.get(key) : undefined;
    if (existing) return existing;
    const name = this.unique(base);
    this.initializers.push(tensor(name));
    if (share) this.shared.set(key, name);
    return name;
  }

  /** A value computed once per graph under `key` (e.g. the batch size every batch norm divides by). */
  memo(key: string, make: () => string): string {
    let value = this.memos.get(key);
    if (value === undefined) this.memos.set(key, (value = make()));
    return value;
  }

  /** Adds a single-output node; returns its output's name. */
  node(opType: string, inputs: readonly string[], output: string, attributes: readonly OnnxAttribute[] = []): string {
    const name = this.unique(output);
    this.nodes.push({ opType, inputs, outputs: [name], name, attributes });
    return name;
  }
}
