import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The real public sample data (`shared/data` beside the repository: DICOM files with pydicom renderings,
 * NIH chest X-rays). Override with PIPELINE_SHARED_DATA.
 */
export const SHARED_DATA = process.env.PIPELINE_SHARED_DATA ?? [resolve(import.meta.dirname, '../../../shared/data'), '/work/shared/data'].find((p) => existsSync(p)) ?? resolve(import.meta.dirname, '../../../shared/data');
