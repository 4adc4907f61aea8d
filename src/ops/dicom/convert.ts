import { decodeFrame } from './decode/index.ts';
import { parseDicom } from './parse.ts';
import { renderFrame, type RenderOptions, type RenderedFrame } from './render.ts';
import { greyPng } from './to-image.ts';

export interface ConvertOptions extends RenderOptions {
  /** Longest side of the output in pixels (aspect kept); undefined keeps the original size. */
  size?: number;
  frames: 'first' | 'all';
}

export interface ConvertedImage {
  png: Buffer;
  width: number;
  height: number;
}

export interface ConvertResult {
  /** One PNG per converted frame. */
  images: ConvertedImage[];
  sourceWidth: number;
  sourceHeight: number;
  framesInFile: number;
  transferSyntax: string;
  voi: string;
}

/** Decoded, rendered grey frames of a DICOM file (no PNG encoding). */
export async function renderDicom(bytes: Uint8Array, options: RenderOptions & { frames: 'first' | 'all' }): Promise<{ frames: RenderedFrame[]; framesInFile: number; transferSyntax: string }> {
  const parsed = parseDicom(bytes);
  const count = options.frames === 'all' ? parsed.header.frames : 1;
  const frames: RenderedFrame[] = [];
  for (let f = 0; f < count; f++) frames.push(renderFrame(await decodeFrame(parsed, f), parsed.header, options));
  return { frames, framesInFile: parsed.header.frames, transferSyntax: parsed.header.transferSyntax.uid };
}

/** DICOM bytes -> 8/16-bit grey PNG(s): parse, decode, modality + VOI LUT, photometric, scale, resize. */
export async function convertDicom(bytes: Uint8Array, options: ConvertOptions): Promise<ConvertResult> {
  const { frames, framesInFile, transferSyntax } = await renderDicom(bytes, options);
  const images: ConvertedImage[] = [];
  for (const f of frames) images.push(await greyPng(f.pixels, f.width, f.height, f.bits, options.size));
  return { images, sourceWidth: frames[0].width, sourceHeight: frames[0].height, framesInFile, transferSyntax, voi: frames[0].voi };
}
