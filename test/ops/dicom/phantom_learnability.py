"""Linear baseline on the synthetic set: pydicom modality+VOI LUT, 64 px, logistic regression per class.
Prints JSON {images, auc: {class: value}, macro}. Used by phantom.test.ts to guard learnability."""
import json, warnings
warnings.filterwarnings('ignore')
import pydicom, glob, numpy as np, cv2, csv, sys, os
from pydicom.pixel_data_handlers.util import apply_modality_lut, apply_voi_lut
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
d = sys.argv[1]
labels = {}
for r in csv.DictReader(open(os.path.join(d, 'labels.csv'))):
    labels.setdefault(r['image_id'], set()).add(r['class_name'])
X, Y, ids = [], [], []
classes = ['Cardiomegaly', 'Nodule/Mass', 'Pleural effusion', 'No finding']
for p in sorted(glob.glob(os.path.join(d, '*.dcm'))):
    ds = pydicom.dcmread(p); a = ds.pixel_array
    v = apply_voi_lut(apply_modality_lut(a, ds), ds).astype(float)
    v = (v - v.min()) / (v.max() - v.min() + 1e-9)
    if ds.PhotometricInterpretation == 'MONOCHROME1': v = 1 - v
    X.append(cv2.resize(v.astype(np.float32), (64, 64), interpolation=cv2.INTER_AREA).ravel())
    iid = os.path.basename(p)[:-4]
    Y.append([c in labels[iid] for c in classes])
X = np.array(X); Y = np.array(Y, dtype=int)
n = len(X); cut = int(n * 0.7)
aucs = {}
for j, c in enumerate(classes):
    m = LogisticRegression(C=0.05, max_iter=3000).fit(X[:cut], Y[:cut, j])
    aucs[c] = float(roc_auc_score(Y[cut:, j], m.predict_proba(X[cut:])[:, 1]))
print(json.dumps({'images': n, 'auc': aucs, 'macro': float(np.mean(list(aucs.values())))}))
