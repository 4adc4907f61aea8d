"""MedMNIST v2's test metrics computed with scikit-learn, after the definitions of the medmnist package's
evaluator (getAUC / getACC): binary = AUC of the last column's score and accuracy of score > 0.5;
multi-class = mean one-vs-rest AUC over all classes and argmax accuracy; multi-label = mean per-label AUC
and mean per-label accuracy of score >= 0.5. Reads JSON cases on stdin, prints JSON [{auc, acc}]."""
import json
import sys

import numpy as np
from sklearn.metrics import accuracy_score, roc_auc_score

out = []
for case in json.load(sys.stdin):
    y, s = np.array(case["truth"]), np.array(case["scores"], dtype=float)
    if case["task"] == "binary":
        auc = roc_auc_score(y, s[:, -1])
        acc = accuracy_score(y, (s[:, -1] > 0.5).astype(int))
    elif case["task"] == "multiclass":
        auc = np.mean([roc_auc_score((y == k).astype(int), s[:, k]) for k in range(s.shape[1])])
        acc = accuracy_score(y, s.argmax(axis=1))
    else:
        auc = np.mean([roc_auc_score(y[:, k], s[:, k]) for k in range(s.shape[1])])
        acc = np.mean([accuracy_score(y[:, k], (s[:, k] >= 0.5).astype(int)) for k in range(s.shape[1])])
    out.append({"auc": float(auc), "acc": float(acc)})
print(json.dumps(out))
