import { parentPort } from 'node:worker_threads';
import { convertDicom, type ConvertOptions } from './convert.ts';
import { errorText } from '../../util/error-text.ts';

/** Worker side of the convert pool: one message per file, answered with the PNGs or the error message. */
export interface ConvertRequest {
  id: number;
  bytes: Uint8Array;
  options: ConvertOptions;
}

parentPort?.on('message', async (request: ConvertRequest) => {
  try {
    const result = await convertDicom(request.bytes, request.options);
    const transfer = result.images.map((i) => i.png.buffer as ArrayBuffer);
    parentPort!.postMessage({ id: request.id, ok: true, result }, transfer.filter((b, i) => transfer.indexOf(b) === i));
  } catch (err) {
    parentPort!.postMessage({ id: request.id, ok: false, error: errorText(err) });
  }
});
