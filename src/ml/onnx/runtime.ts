/**
 * Loads `onnxruntime-node` (an optional dependency) on first use. Typed by the small part of its API
 * used here, so the code type-checks without the package.
 */
import { errorText } from '../../util/error-text.ts';

export interface OrtTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
}

export interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

export interface OrtSessionOptions {
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  executionMode?: 'sequential' | 'parallel';
  /** Session config entries by dotted key path, values as strings (e.g. `{ session: { intra_op: { allow_spinning: '0' } } }`). */
  extra?: Record<string, unknown>;
}

export interface OnnxRuntime {
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
  InferenceSession: { create(model: Uint8Array, options?: OrtSessionOptions): Promise<OrtSession> };
  env: { versions?: { node?: string } };
}

let loading: Promise<OnnxRuntime | undefined> | undefined;
let loadError: string | undefined;

/** The onnxruntime-node module, or undefined when it is not installed or its native library does not load. */
export function loadOnnxRuntime(): Promise<OnnxRuntime | undefined> {
  loading ??= import('onnxruntime-node' as string).then(
    (m: { default?: OnnxRuntime } & Partial<OnnxRuntime>) => (m.InferenceSession ? (m as OnnxRuntime) : m.default),
    (e: unknown) => {
      loadError = errorText(e).split('\n')[0];
      return undefined;
    },
  );
  return loading;
}

/** Why `loadOnnxRuntime` gave undefined (after it did). */
export function onnxRuntimeLoadError(): string | undefined {
  return loadError;
}
