import type { GeometryStep } from '../boxes/transform.ts';
import { applyOps, type OpSpec } from './apply.ts';
import { decodeGrey } from './png.ts';
import { encodeGreyPng } from './png-encode.ts';

export interface ProcessedPng {
  png: Uint8Array<ArrayBuffer>;
  width: number;
  height: number;
  steps: GeometryStep[];
  masked: number;
  inputWidth: number;
  inputHeight: number;
}

/** PNG in, ops in order, PNG out (same bit depth): one image's preprocessing. */
export async function processPng(bytes: Uint8Array, ops: readonly OpSpec[], compression: number): Promise<ProcessedPng> {
  const input = await decodeGrey(bytes);
  const result = await applyOps(input, ops);
  const png = encodeGreyPng(result.image, compression);
  return { png, width: result.image.width, height: result.image.height, steps: result.steps, masked: result.masked.length, inputWidth: input.width, inputHeight: input.height };
}
