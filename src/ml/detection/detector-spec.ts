/** Detector backbones (kept apart from the model code so params schemas load without tfjs). */
export const detectorBackbones = ['resnet18', 'resnet34', 'csp-nano'] as const;
export type DetectorBackbone = (typeof detectorBackbones)[number];
