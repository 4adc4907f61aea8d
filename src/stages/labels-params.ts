import { z } from 'zod';

/** The `labels:` param shared by ingest-dicom and ingest-images. */
export const labelsParam = z
  .union([
    z.string().describe('Path of a labels CSV (format detected from its header), relative to the experiment file'),
    z
      .object({
        path: z.string().optional().describe('Labels CSV path, relative to the experiment file (not needed for format: folders)'),
        format: z
          .enum(['auto', 'vinbig', 'rsna', 'generic', 'folders'])
          .default('auto')
          .describe('vinbig: image_id,class_name,class_id,rad_id,x_min,y_min,x_max,y_max; rsna: patientId,x,y,width,height,Target; generic: id/path column + label columns; folders: one folder per class'),
        id_column: z.string().optional().describe('generic: column with the image id (file stem or SOPInstanceUID)'),
        path_column: z.string().optional().describe('generic: column with the image path relative to the source (or file name)'),
        label_column: z.string().optional().describe('generic: one column listing class names, split by `separator`'),
        separator: z.string().default('|').describe('generic: separator of class names in label_column'),
        label_columns: z.array(z.string()).optional().describe('generic: 0/1 columns, one per class'),
        patient_column: z.string().optional().describe('generic: patient id column (pseudonymised like DICOM patient ids)'),
        split_column: z.string().optional().describe('generic: column with train/val/test'),
      })
      .strict(),
  ])
  .optional()
  .describe('Labels to join onto the images');

export type LabelsParam = z.output<typeof labelsParam>;

export function labelsPath(labels: LabelsParam): string | undefined {
  return typeof labels === 'string' ? labels : labels?.path;
}
