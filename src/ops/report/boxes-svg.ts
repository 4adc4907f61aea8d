import { escapeXml } from './escape.ts';

export interface DrawnBox {
  x_min: number;
  y_min: number;
  x_max: number;
  y_max: number;
  /** Text drawn at the box's top-left corner (class, score). */
  caption?: string;
  colour: string;
  dashed?: boolean;
}

export interface BoxFigure {
  /** The image as a data URI (embedded: the SVG stands alone). */
  href: string;
  /** Size of the image in the boxes' pixel frame, and the displayed width. */
  width: number;
  height: number;
  displayWidth: number;
  boxes: readonly DrawnBox[];
  title?: string;
}

/** An image with boxes drawn over it, as a self-contained SVG (boxes in the image's pixel frame). */
export function boxFigure(fig: BoxFigure): string {
  const s = fig.displayWidth / fig.width;
  const w = fig.displayWidth;
  const h = Math.round(fig.height * s);
  const top = fig.title ? 18 : 0;
  const parts: string[] = [];
  if (fig.title) parts.push(`<text x="2" y="13" font-weight="bold">${escapeXml(fig.title)}</text>`);
  parts.push(`<image x="0" y="${top}" width="${w}" height="${h}" preserveAspectRatio="none" href="${escapeXml(fig.href)}"/>`);
  for (const b of fig.boxes) {
    const x = (b.x_min * s).toFixed(1);
    const y = (top + b.y_min * s).toFixed(1);
    const bw = ((b.x_max - b.x_min) * s).toFixed(1);
    const bh = ((b.y_max - b.y_min) * s).toFixed(1);
    parts.push(`<rect class="box" x="${x}" y="${y}" width="${bw}" height="${bh}" fill="none" stroke="${b.colour}" stroke-width="1.6"${b.dashed ? ' stroke-dasharray="4 3"' : ''}/>`);
    if (b.caption) parts.push(`<text x="${x}" y="${(Math.max(top + 9, top + b.y_min * s - 2)).toFixed(1)}" fill="${b.colour}" font-size="9" paint-order="stroke" stroke="#fff" stroke-width="2">${escapeXml(b.caption)}</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h + top}" viewBox="0 0 ${w} ${h + top}" font-family="sans-serif" font-size="11">\n${parts.join('\n')}\n</svg>\n`;
}
