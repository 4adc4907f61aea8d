import { readFile } from 'node:fs/promises';
import { StageInputError, type StageContext } from '../engine/stage.ts';
import { importOnnxWeights, WeightImportError } from '../ml/import/onnx-weights.ts';
import type { SwinWindowPadding } from '../ml/import/transformer-weights.ts';
import { inputNormalizationOf } from '../ml/layers/input-normalization.ts';
import { OnnxReadError } from '../ml/onnx/onnx-reader.ts';
import type * as tf from '../ml/tf.ts';

export const isOnnxPath = (path: string | undefined): boolean => path?.toLowerCase().endsWith('.onnx') ?? false;

/** `weights: x.onnx`: loads an ONNX export of a torchvision/timm network into the zoo model (see ml/import). */
export async function startFromOnnx(ctx: StageContext, model: tf.LayersModel, path: string): Promise<void> {
  const bytes = await readFile(ctx.resolvePath(path));
  try {
    const r = importOnnxWeights(model, bytes);
    const grid = r.positionEmbeddingResampled;
    const notes = [
      r.headReplaced ? 'classifier kept fresh (other class count)' : '',
      r.inputChannelsSummed ? 'first conv summed over RGB for 1-channel input' : '',
      r.foldedBatchNorms ? `${r.foldedBatchNorms} batch norms folded by the exporter restored as identity + bias` : '',
      grid ? `position embedding resampled ${grid.from}x${grid.from} -> ${grid.to}x${grid.to}, as ${grid.as}` : '',
    ].filter(Boolean);
    ctx.log.info(`initialised ${r.loaded} layers from ONNX weights ${path}${notes.length ? ` (${notes.join('; ')})` : ''}`);
    if (r.swinWindowsPadded) ctx.log.info(swinPaddingNote(r.swinWindowsPadded));
    if (!inputNormalizationOf(model)) ctx.log.warn(`weights ${path}: the model gets its [0, 1] input unnormalised; torchvision/timm ImageNet weights expect normalize: imagenet`);
  } catch (e) {
    if (e instanceof OnnxReadError) {
      throw new StageInputError(`train: weights ${path} cannot be read as an ONNX model: ${e.message}`, 'export the model again (torch.onnx.export, docs/training.md "Pretrained weights") and copy the whole file: its size must equal the exported one\'s');
    }
    if (!(e instanceof WeightImportError || (e instanceof Error && /ONNX/.test(e.message)))) throw e;
    throw new StageInputError(
      `train: weights ${path} do not fit model ${model.name}: ${e.message}`,
      'export the same torchvision/timm architecture (resnet18 -> model: resnet18, mobilenet_v2 -> mobilenetv2, ...) and keep stem: imagenet; see docs/training.md "Pretrained weights"',
    );
  }
}

/** e.g. "Swin windows padded as torchvision at 32x32, 4x4 grids; timm would shrink them at 4x4 and shift before padding at 32x32". */
export function swinPaddingNote(p: SwinWindowPadding): string {
  const timm = [p.timmShrinks.length ? `shrink them at ${p.timmShrinks.join(', ')}` : '', p.timmShiftsFirst.length ? `shift before padding at ${p.timmShiftsFirst.join(', ')}` : ''].filter(Boolean);
  return `Swin windows padded as torchvision at ${p.grids.join(', ')} grids${timm.length ? `; timm would ${timm.join(' and ')}` : ''} (the weights fit either way; see docs/training.md "Pretrained weights")`;
}
