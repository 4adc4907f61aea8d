"""Reference values from scikit-learn for test/ops/metrics/sklearn-parity.test.ts.

Reads JSON cases on stdin, prints JSON results. Run with Debian's /usr/bin/python3 (python3-sklearn).
"""
import json
import sys
import warnings

import numpy as np
from sklearn import metrics
from sklearn.calibration import calibration_curve

warnings.simplefilter("ignore")


def safe(fn):
    try:
        value = fn()
    except ValueError as err:
        return {"error": str(err)}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return [v.tolist() if isinstance(v, np.ndarray) else v for v in value]
    return float(value) if np.isscalar(value) else value


def nan_to_none(values):
    return [None if (isinstance(v, float) and np.isnan(v)) else v for v in values]


def binary(case):
    y = np.array(case["truth"])
    s = np.array(case["scores"])
    out = {
        "auc": safe(lambda: metrics.roc_auc_score(y, s)),
        "ap": safe(lambda: metrics.average_precision_score(y, s)),
    }
    fpr, tpr, thr = metrics.roc_curve(y, s)
    out["roc"] = {"fpr": nan_to_none(fpr.tolist()), "tpr": nan_to_none(tpr.tolist()), "thresholds": thr[1:].tolist()}
    p, r, t = metrics.precision_recall_curve(y, s)
    out["pr"] = {"precision": p.tolist(), "recall": r.tolist(), "thresholds": t.tolist()}
    out["pr_auc"] = float(metrics.auc(r, p))
    if len(np.unique(y)) == 2:
        j = tpr - fpr
        best = int(np.argmax(j[1:])) + 1
        out["youden"] = float(thr[best])
    thr_value = case["threshold"]
    pred = (s >= thr_value).astype(int)
    out["f1"] = float(metrics.f1_score(y, pred, zero_division=0))
    out["sensitivity"] = float(metrics.recall_score(y, pred, zero_division=0))
    out["specificity"] = float(metrics.recall_score(y, pred, pos_label=0, zero_division=0))
    out["precision"] = float(metrics.precision_score(y, pred, zero_division=0))
    out["accuracy"] = float(metrics.accuracy_score(y, pred))
    out["confusion"] = metrics.confusion_matrix(y, pred, labels=[0, 1]).tolist()
    probs = np.clip(s, 0, 1)
    pt, pp = calibration_curve(y, probs, n_bins=case["bins"]) if len(np.unique(y)) <= 2 else ([], [])
    out["calibration"] = {"probTrue": list(map(float, pt)), "probPred": list(map(float, pp))}
    out["brier"] = float(metrics.brier_score_loss(y, probs)) if len(np.unique(y)) == 2 else None
    out["percentile"] = [float(np.percentile(s, q)) for q in case["percentiles"]]
    replicate = []
    for idx in case["bootstrap"]:
        yy = y[idx]
        if len(np.unique(yy)) < 2:
            continue
        replicate.append(metrics.roc_auc_score(yy, s[idx]))
    out["bootstrap"] = [float(v) for v in np.percentile(replicate, [2.5, 97.5])] if replicate else None
    out["bootstrap_used"] = len(replicate)
    return out


def multilabel(case):
    Y = np.array(case["truth"])
    S = np.array(case["scores"])
    P = np.array(case["predicted"])
    out = {}
    for avg in ["macro", "micro", "weighted"]:
        out["auc_" + avg] = safe(lambda: metrics.roc_auc_score(Y, S, average=avg))
        out["ap_" + avg] = safe(lambda: metrics.average_precision_score(Y, S, average=avg))
        out["f1_" + avg] = float(metrics.f1_score(Y, P, average=avg, zero_division=0))
    out["mcm"] = metrics.multilabel_confusion_matrix(Y, P).tolist()
    return out


def multiclass(case):
    y = np.array(case["truth"])
    S = np.array(case["scores"])
    C = S.shape[1]
    pred = S.argmax(axis=1)
    labels = list(range(C))
    out = {}
    for avg in ["macro", "weighted", "micro"]:
        out["auc_" + avg] = safe(lambda: metrics.roc_auc_score(y, S, multi_class="ovr", average=avg, labels=labels))
    Y = np.eye(C, dtype=int)[y]
    out["ap_macro"] = safe(lambda: metrics.average_precision_score(Y, S, average="macro"))
    out["f1_macro"] = float(metrics.f1_score(y, pred, average="macro", labels=labels, zero_division=0))
    out["accuracy"] = float(metrics.accuracy_score(y, pred))
    out["confusion"] = metrics.confusion_matrix(y, pred, labels=labels).tolist()
    return out


def main():
    cases = json.load(sys.stdin)
    handlers = {"binary": binary, "multilabel": multilabel, "multiclass": multiclass}
    json.dump([handlers[c["kind"]](c) for c in cases], sys.stdout)


main()
