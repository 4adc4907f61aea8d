/** The model cannot be expressed by the ONNX exporter (the predictor then falls back to tfjs). */
export class OnnxExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxExportError';
  }
}

/** A layer class (or a configuration of one) the exporter does not convert. */
export class UnsupportedLayerError extends OnnxExportError {
  constructor(readonly layer: string, readonly className: string, reason?: string) {
    super(`layer ${layer} (${className}) is not supported by the ONNX exporter${reason ? `: ${reason}` : ''}`);
    this.name = 'UnsupportedLayerError';
  }
}
