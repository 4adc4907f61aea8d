"""Max abs difference between two folders of PNGs with the same names. usage: A_DIR B_DIR"""
import os
import sys

import cv2
import numpy as np

a, b = sys.argv[1], sys.argv[2]
worst = 0
for f in sorted(os.listdir(a)):
    x = cv2.imread(os.path.join(a, f), cv2.IMREAD_UNCHANGED).astype(np.int32)
    y = cv2.imread(os.path.join(b, f), cv2.IMREAD_UNCHANGED).astype(np.int32)
    worst = max(worst, int(np.abs(x - y).max()))
print(worst)
