import { findingClassId, NO_FINDING, NO_FINDING_CLASS_ID, phantomImages, type PhantomOptions } from './phantom.ts';
import { writeDicom } from './write.ts';
import { formatVinbigCsv, type VinbigReading } from '../labels/vinbig.ts';

export interface DemoSetSummary {
  images: number;
  patients: number;
  /** Images per class name (an image counts once per class). */
  counts: Record<string, number>;
  labelsCsv: string;
}

/**
 * Writes the synthetic chest X-ray set: `sink` receives each DICOM file (`<image_id>.dcm`) in turn, and
 * the summary carries the VinBigData-format labels CSV (3 readers per image; "No finding" rows unboxed).
 */
export async function writeDemoSet(options: PhantomOptions, sink: (name: string, bytes: Uint8Array) => Promise<void>): Promise<DemoSetSummary> {
  const readings: VinbigReading[] = [];
  const counts: Record<string, number> = {};
  let images = 0;
  for (const image of phantomImages(options)) {
    await sink(`${image.imageId}.dcm`, writeDicom(image.spec));
    images++;
    if (image.findings.length === 0) {
      counts[NO_FINDING] = (counts[NO_FINDING] ?? 0) + 1;
      for (const reader of image.readers) readings.push({ imageId: image.imageId, className: NO_FINDING, classId: NO_FINDING_CLASS_ID, reader });
    }
    for (const f of image.findings) counts[f.label] = (counts[f.label] ?? 0) + 1;
    for (const r of image.readings) readings.push({ imageId: image.imageId, className: r.label, classId: findingClassId(r.label), reader: r.reader, box: r.box });
  }
  return { images, patients: options.patients, counts, labelsCsv: formatVinbigCsv(readings) };
}
