import { loadSharp } from '../util/sharp.ts';
import type { DetectionImage, LabelledBox } from '../ops/boxes/map.ts';
import { boxFigure, type DrawnBox } from '../ops/report/boxes-svg.ts';
import { escapeXml } from '../ops/report/escape.ts';
import { bestF1Threshold, imageOutcome, type ImageOutcome } from './detection-report.ts';

export interface GalleryImage {
  id: string;
  image: DetectionImage;
  /** Blob digest of the stored image (PNG), its size in the boxes' frame. */
  blob?: string;
  width?: number;
  height?: number;
}

export interface GalleryOptions {
  perGroup: number;
  /** Boxes scoring at least this are drawn and counted; `f1`: the threshold with the best pooled F1. */
  scoreThr: number | 'f1';
  displayWidth: number;
  iouThr: number;
  /** A class left out of the gallery (the "No finding" pseudo-box). */
  ignore?: string;
}

export const GALLERY_COLOURS = { found: '#2ca02c', missed: '#e377c2', tp: '#1f77b4', fp: '#d62728' } as const;

/**
 * A gallery of images with predicted and true boxes drawn: `best` (highest per-image F1 among images with
 * truth boxes), `worst` (lowest F1), `missed` (most truth boxes not found), each as standalone SVGs
 * (`gallery/<group>/<id>.svg`) and one HTML section. Truth found: green; truth missed: pink, dashed;
 * predictions matched: blue; false positives: red, dashed.
 */
export async function detectionGallery(images: readonly GalleryImage[], load: (blob: string) => Promise<Buffer>, options: GalleryOptions): Promise<{ files: Record<string, string>; html: string; threshold: number; note: string }> {
  const threshold = options.scoreThr === 'f1' ? bestF1Threshold(images.map((g) => g.image), options.iouThr, options.ignore).threshold : options.scoreThr;
  const drawable = images.filter((g) => g.blob && g.width && g.height).map((g) => ({ g, o: imageOutcome(g.image, threshold, options.iouThr, options.ignore) }));
  const shown = new Set<string>();
  const pick = (list: typeof drawable) => {
    const out = list.filter(({ g }) => !shown.has(g.id)).slice(0, options.perGroup);
    for (const { g } of out) shown.add(g.id);
    return out;
  };
  const truthCount = (o: ImageOutcome) => o.found.length + o.missed.length;
  const groups = {
    best: pick(drawable.filter(({ o }) => truthCount(o) > 0).sort((a, b) => b.o.f1 - a.o.f1 || b.o.tp.length - a.o.tp.length)),
    worst: pick(drawable.filter(({ o }) => truthCount(o) + o.fp.length > 0).sort((a, b) => a.o.f1 - b.o.f1 || errors(b.o) - errors(a.o))),
    missed: pick(drawable.filter(({ o }) => o.missed.length > 0).sort((a, b) => b.o.missed.length - a.o.missed.length)),
  };
  const files: Record<string, string> = {};
  const sections: string[] = [];
  for (const [group, list] of Object.entries(groups)) {
    const figures: string[] = [];
    for (const { g, o } of list) {
      const svg = await render(g, o, await load(g.blob!), options.displayWidth);
      files[`gallery/${group}/${g.id}.svg`] = svg;
      figures.push(`<figure>${svg}<figcaption>${escapeXml(g.id)}: F1 ${o.f1.toFixed(2)}, ${o.tp.length} TP, ${o.fp.length} FP, ${o.missed.length} missed</figcaption></figure>`);
    }
    sections.push(`<h3>${group}</h3>${figures.length ? figures.join('\n') : '<p>none</p>'}`);
  }
  const note = `boxes scoring ≥ ${threshold.toPrecision(3)}${options.scoreThr === 'f1' ? ' (the best pooled F1 on these images)' : ''}; a prediction matches a truth box of its class at IoU > ${options.iouThr}`;
  const legend = `<p>${escapeXml(note)}. Truth found <b style="color:${GALLERY_COLOURS.found}">green</b>, truth missed <b style="color:${GALLERY_COLOURS.missed}">pink (dashed)</b>, predictions matched <b style="color:${GALLERY_COLOURS.tp}">blue</b>, false positives <b style="color:${GALLERY_COLOURS.fp}">red (dashed)</b>.</p>`;
  return { files, html: legend + sections.join('\n'), threshold, note };
}

const errors = (o: ImageOutcome) => o.fp.length + o.missed.length;

async function render(g: GalleryImage, o: ImageOutcome, bytes: Buffer, displayWidth: number): Promise<string> {
  const sharp = await loadSharp();
  const width = Math.min(displayWidth, g.width!);
  const jpeg = await sharp(bytes).resize({ width }).normalise().toColourspace('b-w').jpeg({ quality: 80 }).toBuffer();
  const caption = (b: LabelledBox) => `${b.label}${b.score === undefined ? '' : ` ${b.score.toFixed(2)}`}`;
  const boxes: DrawnBox[] = [
    ...o.found.map((b) => ({ ...b, colour: GALLERY_COLOURS.found })),
    ...o.missed.map((b) => ({ ...b, colour: GALLERY_COLOURS.missed, dashed: true, caption: `missed ${b.label}` })),
    ...o.tp.map((b) => ({ ...b, colour: GALLERY_COLOURS.tp, caption: caption(b) })),
    ...o.fp.map((b) => ({ ...b, colour: GALLERY_COLOURS.fp, dashed: true, caption: caption(b) })),
  ];
  return boxFigure({ href: `data:image/jpeg;base64,${jpeg.toString('base64')}`, width: g.width!, height: g.height!, displayWidth: width, boxes, title: g.id });
}
