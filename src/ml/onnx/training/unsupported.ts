import { OnnxExportError } from '../errors.ts';

/** A loss or optimizer the ONNX training graph does not implement (callers fall back to tfjs). */
export class UnsupportedTrainingError extends OnnxExportError {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedTrainingError';
  }
}
