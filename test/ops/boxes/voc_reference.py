"""PASCAL VOC 2010+ AP, written from the devkit's published algorithm (VOCevaldet / voc_eval):
detections of a class sorted by confidence; each takes the truth box of its image with the largest
overlap; TP if overlap > threshold and that box is not detected yet and not difficult, ignored if
difficult, else FP; AP = area under the monotone precision envelope (all-point). Continuous
coordinates (no +1). Reads {"images": [{"truth": [...], "predicted": [...]}], "labels": [...],
"thresholds": [...]} on stdin, prints {threshold: {label: ap or null}}."""
import json
import sys
import numpy as np


def iou(a, b):
    w = min(a["x_max"], b["x_max"]) - max(a["x_min"], b["x_min"])
    h = min(a["y_max"], b["y_max"]) - max(a["y_min"], b["y_min"])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    area = lambda r: (r["x_max"] - r["x_min"]) * (r["y_max"] - r["y_min"])
    return inter / (area(a) + area(b) - inter)


def voc_ap(images, label, thr):
    truth = [[t for t in im["truth"] if t["label"] == label] for im in images]
    npos = sum(1 for boxes in truth for t in boxes if not t.get("difficult"))
    dets = [(i, d) for i, im in enumerate(images) for d in im["predicted"] if d["label"] == label]
    order = np.argsort([-d["score"] for _, d in dets], kind="mergesort")
    used = [[False] * len(b) for b in truth]
    tp, fp = [], []
    for k in order:
        i, d = dets[k]
        overlaps = [iou(d, t) for t in truth[i]]
        j = int(np.argmax(overlaps)) if overlaps else -1
        if j >= 0 and overlaps[j] > thr:
            if truth[i][j].get("difficult"):
                tp.append(0); fp.append(0)
            elif not used[i][j]:
                used[i][j] = True
                tp.append(1); fp.append(0)
            else:
                tp.append(0); fp.append(1)
        else:
            tp.append(0); fp.append(1)
    if npos == 0:
        return None
    tp, fp = np.cumsum(tp), np.cumsum(fp)
    rec = tp / float(npos)
    prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    mrec = np.concatenate(([0.0], rec, [1.0]))
    mpre = np.concatenate(([0.0], prec, [0.0]))
    for i in range(mpre.size - 1, 0, -1):
        mpre[i - 1] = max(mpre[i - 1], mpre[i])
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))


data = json.load(sys.stdin)
print(json.dumps({str(t): {l: voc_ap(data["images"], l, t) for l in data["labels"]} for t in data["thresholds"]}))
