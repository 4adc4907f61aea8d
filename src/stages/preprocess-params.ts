import { z } from 'zod';

const fraction = z.number().min(0).max(1);

export const CropParams = z
  .object({
    left: fraction.default(0).describe('Fraction of the width cut off the left side'),
    right: fraction.default(0).describe('Fraction of the width cut off the right side'),
    top: fraction.default(0).describe('Fraction of the height cut off the top'),
    bottom: fraction.default(0).describe('Fraction of the height cut off the bottom'),
  })
  .strict()
  .describe('Crop by rates per side, e.g. {left: .06, right: .06, top: .2, bottom: .12}');

export const AutoCropParams = z
  .object({
    tolerance: z.number().int().min(0).default(0).describe('A row/column is border when max - min <= tolerance (grey levels)'),
  })
  .strict()
  .describe('Crop uniform borders, scanning from the image centre outward');

const RegionParams = z
  .object({
    x: fraction.describe('Left edge, fraction of the width'),
    y: fraction.describe('Top edge, fraction of the height'),
    width: fraction.describe('Width, fraction of the image width'),
    height: fraction.describe('Height, fraction of the image height'),
  })
  .strict();

export const AutoMaskParams = z
  .object({
    threshold: fraction.default(0.98).describe('Saturated = at least this fraction of the maximum grey value'),
    max_area: fraction.default(0.005).describe('Largest component to mask, as a fraction of the image area'),
    border: fraction.default(0.15).describe('Only components within this fraction of the width/height from an edge'),
    dilate: z.number().int().min(0).default(2).describe('Pixels added around each component before filling'),
  })
  .strict();

export const MaskParams = z
  .object({
    regions: z.array(RegionParams).default([]).describe('Fixed regions to fill (fractions of the image)'),
    auto: z.union([z.boolean(), AutoMaskParams]).default(false).describe('Also find small saturated components (burned-in text, markers) near the borders; true = defaults'),
    margin: z.number().int().min(1).default(3).describe('Width in pixels of the ring around a region whose mean fills it'),
  })
  .strict()
  .describe('Mask burned-in text/markers with the mean of the surrounding pixels');

export const ClaheParams = z
  .object({
    clip: z.number().min(0).default(2).describe("Contrast limit (OpenCV's clipLimit); 0 = plain adaptive equalisation"),
    tiles: z
      .union([z.number().int().min(1), z.tuple([z.number().int().min(1), z.number().int().min(1)])])
      .default(8)
      .describe('Tile grid: n for n x n, or [columns, rows]'),
  })
  .strict()
  .describe('Contrast Limited Adaptive Histogram Equalisation (matches OpenCV createCLAHE)');

export const ResizeParams = z
  .object({
    width: z.number().int().min(1).describe('Output width in pixels'),
    height: z.number().int().min(1).optional().describe('Output height in pixels (default: width)'),
    fit: z.enum(['pad', 'stretch']).default('pad').describe('pad: keep the aspect ratio, centre and pad; stretch: fill exactly'),
    interpolation: z.enum(['area', 'bilinear', 'lanczos']).default('area').describe('area (OpenCV INTER_AREA), bilinear (INTER_LINEAR), lanczos (INTER_LANCZOS4, 8x8 kernel, enlarging and shrinking)'),
    pad_value: z.number().int().min(0).max(65535).default(0).describe('Grey value of the padding'),
  })
  .strict()
  .describe('Resize to width x height');

export const MedianParams = z
  .object({ size: z.number().int().min(3).max(15).refine((n) => n % 2 === 1, 'size must be odd').default(3).describe('Window size (odd)') })
  .strict()
  .describe('Median blur (edges replicated)');

const OP_NAMES = ['crop', 'autocrop', 'mask', 'clahe', 'invert', 'resize', 'median'] as const;

export const OpParams = z
  .object({
    crop: CropParams.optional(),
    autocrop: AutoCropParams.optional(),
    mask: MaskParams.optional(),
    clahe: ClaheParams.optional(),
    invert: z.literal(true).optional().describe('Negative image (invert: true)'),
    resize: ResizeParams.optional(),
    median: MedianParams.optional(),
  })
  .strict()
  .refine((op) => OP_NAMES.filter((name) => op[name] !== undefined).length === 1, {
    message: `each op has exactly one of: ${OP_NAMES.join(', ')} (write one list entry per op)`,
  })
  .describe('One image op; ops run in list order');

export const PreprocessParams = z
  .object({
    ops: z.array(OpParams).min(1).describe('Ordered image ops, e.g. [{crop: {...}}, {clahe: {clip: 2, tiles: 8}}, {resize: {width: 512}}]'),
    png_compression: z.number().int().min(0).max(9).default(1).describe('zlib effort for the output PNGs (rows Paeth-filtered): 1 run-length deflate, fastest and on radiographs also smallest; 2-9 LZ77 at that zlib level, for images with long repeated patterns; 0 uncompressed'),
  })
  .strict();

export type PreprocessParams = z.output<typeof PreprocessParams>;
export type OpParams = z.output<typeof OpParams>;
