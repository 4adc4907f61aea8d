"""Reference results from OpenCV / numpy for test/ops/image/opencv-compare.test.ts.

Reads a JSON list of jobs from argv[1]; each job names a raw input file (row-major grey samples),
its dtype and shape, an op and its args, and where to write the raw output. Prints one JSON line per
job with the output shape.
"""
import json
import math
import sys

import cv2
import numpy as np


def run(job, img):
    op, a = job["op"], job.get("args", {})
    if op == "clahe":
        return cv2.createCLAHE(clipLimit=a["clip"], tileGridSize=(a["tilesX"], a["tilesY"])).apply(img)
    if op == "crop":
        h, w = img.shape
        r = lambda v: int(math.floor(v + 0.5))
        return img[r(a["top"] * h): h - r(a["bottom"] * h), r(a["left"] * w): w - r(a["right"] * w)]
    if op == "invert":
        return np.iinfo(img.dtype).max - img
    if op == "resize":
        flag = {"area": cv2.INTER_AREA, "bilinear": cv2.INTER_LINEAR, "lanczos": cv2.INTER_LANCZOS4}[a["interpolation"]]
        return cv2.resize(img, (a["width"], a["height"]), interpolation=flag)
    if op == "median":
        return cv2.medianBlur(img, a["size"])
    raise ValueError("unknown op " + op)


def main():
    jobs = json.load(open(sys.argv[1]))
    for job in jobs:
        dtype = np.uint16 if job["bits"] == 16 else np.uint8
        img = np.fromfile(job["input"], dtype=dtype).reshape(job["height"], job["width"])
        out = np.ascontiguousarray(run(job, img).astype(dtype))
        out.tofile(job["output"])
        print(json.dumps({"height": out.shape[0], "width": out.shape[1]}))


main()
