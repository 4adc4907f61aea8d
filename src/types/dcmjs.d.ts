// dcmjs ships no type declarations; this covers the part the DICOM writer uses.
declare module 'dcmjs' {
  interface DicomElement {
    vr: string;
    Value: unknown[];
  }
  class DicomDict {
    constructor(meta: Record<string, DicomElement>);
    meta: Record<string, DicomElement>;
    dict: Record<string, DicomElement>;
    write(options?: { fragmentMultiframe?: boolean; allowInvalidVRLength?: boolean }): ArrayBuffer;
  }
  const dcmjs: {
    data: {
      DicomDict: typeof DicomDict;
      DicomMessage: { readFile(buffer: ArrayBuffer, options?: Record<string, unknown>): { meta: Record<string, DicomElement>; dict: Record<string, DicomElement> } };
      [name: string]: any;
    };
    [name: string]: any;
  };
  export default dcmjs;
}
