import * as tf from '../tf.ts';
import type { Info, WasmBackend } from './kernel-call.ts';

/** out[segmentIds[i], ...] += x[i, ...] (the gradient of gather); ids outside [0, numSegments) are dropped. */
export function unsortedSegmentSum(args: { inputs: { x: Info; segmentIds: Info }; backend: WasmBackend; attrs: Record<string, any> }): Info {
  const { inputs: { x, segmentIds }, backend: b, attrs } = args;
  const numSegments: number = attrs.numSegments;
  const innerShape = x.shape.slice(segmentIds.shape.length);
  const inner = tf.util.sizeFromShape(innerShape);
  const values = b.readSync(x.dataId) as tf.backend_util.TypedArray;
  const ids = b.readSync(segmentIds.dataId) as tf.backend_util.TypedArray;
  const out = b.makeOutput([numSegments, ...innerShape], x.dtype);
  const target = b.typedArrayFromHeap(out);
  target.fill(0);
  for (let i = 0; i < ids.length; i++) {
    const seg = ids[i];
    if (seg < 0 || seg >= numSegments) continue;
    const src = i * inner, dst = seg * inner;
    for (let k = 0; k < inner; k++) target[dst + k] += values[src + k];
  }
  return out;
}
