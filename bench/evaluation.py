"""scikit-learn side of bench/evaluation.sh: macro ROC-AUC + 1000-replicate bootstrap percentile CI."""
import json
import sys
import time

import numpy as np
from sklearn.metrics import roc_auc_score

d = json.load(open(sys.argv[1]))
Y, S, n = np.array(d["truth"]), np.array(d["scores"]), d["replicates"]
start = time.process_time()
value = roc_auc_score(Y, S, average="macro")
rng = np.random.default_rng(1)
reps = []
for _ in range(n):
    idx = rng.integers(0, len(Y), len(Y))
    try:
        reps.append(roc_auc_score(Y[idx], S[idx], average="macro"))
    except ValueError:
        pass
low, high = np.percentile(reps, [2.5, 97.5])
print(f"{time.process_time() - start:.3f}", value, low, high)
