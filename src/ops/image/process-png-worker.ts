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
    return { result, transfer: [result.png.buffer] }; // the PNG owns its whole ArrayBuffer (png-encode.ts)
  });
}
