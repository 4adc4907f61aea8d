import { parentPort } from 'node:worker_threads';
import { serveRequests } from '../../util/worker-pool.ts';
import type { OpSpec } from './apply.ts';
import { processPng, type ProcessedPng } from './process-png.ts';

export interface ProcessPngRequest {
  bytes: Uint8Array;
  ops: OpSpec[];
  compression: number;
}

if (parentPort) {
  serveRequests<ProcessPngRequest, ProcessedPng>(parentPort, async (r) => {
    const result = await processPng(r.bytes, r.ops, r.compression);
    const png = new Uint8Array(result.png); // an own buffer to transfer (sharp's may be pooled)
    return { result: { ...result, png }, transfer: [png.buffer] };
  });
}
