"""Folds under scikit-learn's StratifiedGroupKFold, for test/ops/splits/stratify.test.ts.

stdin: JSON list of jobs {"y": [...], "groups": [...], "k": 5, "seed": 0}; stdout: JSON list, per job
the fold index of every item. One process for all jobs (importing sklearn is the slow part).
"""
import json
import sys

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

out = []
for job in json.load(sys.stdin):
    y = np.array(job["y"])
    groups = np.array(job["groups"])
    fold = np.full(len(y), -1)
    splitter = StratifiedGroupKFold(n_splits=job["k"], shuffle=True, random_state=job["seed"])
    for j, (_, val) in enumerate(splitter.split(np.zeros(len(y)), y, groups)):
        fold[val] = j
    out.append(fold.tolist())
print(json.dumps(out))
