import { resolve } from 'node:path';

/** Real sample files kept in the repository (see test/fixtures/README.md for their sources and licences). */
export const FIXTURES_DIR = resolve(import.meta.dirname, '../fixtures');
/** 19 real DICOM files from public test suites, with pydicom's renderings in `ref/`. */
export const DICOM_FIXTURES = resolve(FIXTURES_DIR, 'dicom');
/** NIH ChestX-ray14 64 px: labels of 1,000 images, 124 of the images. */
export const NIH_FIXTURES = resolve(FIXTURES_DIR, 'nih1000_64px');
