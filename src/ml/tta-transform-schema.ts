import { z } from 'zod';

/** TTA transforms as written in YAML (no tfjs here, so stage params load without it). */
export const ttaTransformSchema = z.union([
  z.enum(['identity', 'hflip', 'vflip']).describe('identity, horizontal flip or vertical flip'),
  z
    .object({
      shift: z
        .object({
          x: z.number().min(-0.5).max(0.5).default(0).describe('Fraction of the width the content moves right (negative: left)'),
          y: z.number().min(-0.5).max(0.5).default(0).describe('Fraction of the height the content moves down (negative: up)'),
        })
        .strict(),
    })
    .strict()
    .describe('Translate by round(fraction × size) whole pixels; uncovered pixels are black'),
  z.object({ scale: z.number().min(0.5).max(2).describe('Zoom about the centre: 1.1 enlarges by 10% (crops the border), 0.9 shrinks (black border)') }).strict(),
]);

export type TtaTransform = z.output<typeof ttaTransformSchema>;

/** A short readable name for logs and row columns. */
export function transformName(t: TtaTransform): string {
  if (typeof t === 'string') return t;
  if ('shift' in t) return `shift(${t.shift.x},${t.shift.y})`;
  return `scale(${t.scale})`;
}
