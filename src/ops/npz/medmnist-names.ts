/**
 * Label names of the 12 MedMNIST v2 2D datasets, by label index, as the medmnist package's INFO
 * (medmnist/info.py) publishes them. Keyed by the file name's dataset flag (`pathmnist.npz`, also the
 * MedMNIST+ sizes `pathmnist_64.npz`).
 */
const ORGAN = ['bladder', 'femur-left', 'femur-right', 'heart', 'kidney-left', 'kidney-right', 'liver', 'lung-left', 'lung-right', 'pancreas', 'spleen'];

export const MEDMNIST_LABELS: Readonly<Record<string, readonly string[]>> = {
  pathmnist: ['adipose', 'background', 'debris', 'lymphocytes', 'mucus', 'smooth muscle', 'normal colon mucosa', 'cancer-associated stroma', 'colorectal adenocarcinoma epithelium'],
  chestmnist: ['atelectasis', 'cardiomegaly', 'effusion', 'infiltration', 'mass', 'nodule', 'pneumonia', 'pneumothorax', 'consolidation', 'edema', 'emphysema', 'fibrosis', 'pleural', 'hernia'],
  dermamnist: ['actinic keratoses and intraepithelial carcinoma', 'basal cell carcinoma', 'benign keratosis-like lesions', 'dermatofibroma', 'melanoma', 'melanocytic nevi', 'vascular lesions'],
  octmnist: ['choroidal neovascularization', 'diabetic macular edema', 'drusen', 'normal'],
  pneumoniamnist: ['normal', 'pneumonia'],
  retinamnist: ['0', '1', '2', '3', '4'],
  breastmnist: ['malignant', 'normal, benign'],
  bloodmnist: ['basophil', 'eosinophil', 'erythroblast', 'immature granulocytes(myelocytes, metamyelocytes and promyelocytes)', 'lymphocyte', 'monocyte', 'neutrophil', 'platelet'],
  tissuemnist: ['Collecting Duct, Connecting Tubule', 'Distal Convoluted Tubule', 'Glomerular endothelial cells', 'Interstitial endothelial cells', 'Leukocytes', 'Podocytes', 'Proximal Tubule Segments', 'Thick Ascending Limb'],
  organamnist: ORGAN,
  organcmnist: ORGAN,
  organsmnist: ORGAN,
};

/** The published names when the file is one of the 12 (`chestmnist.npz`, `chestmnist_128.npz`), else undefined. */
export function medmnistLabelsFor(fileName: string): { flag: string; names: readonly string[] } | undefined {
  const flag = fileName.toLowerCase().match(/^([a-z]+mnist)(?:_\d+)?\.npz$/)?.[1];
  return flag && MEDMNIST_LABELS[flag] ? { flag, names: MEDMNIST_LABELS[flag] } : undefined;
}
