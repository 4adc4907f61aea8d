"""Random channels-last grids and PyTorch's bicubic F.interpolate of them: align_corners=False with and without
antialias (timm's resample_abs_pos_embed uses antialias), and align_corners=True (torchvision's interpolate_embeddings).

Usage: /usr/bin/python3 interpolate_reference.py OUT_DIR H:W:C:OUT_H:OUT_W ...
Per case, in OUT_DIR: CASE.input.bin (float32 [H, W, C]), CASE.plain.bin, CASE.antialias.bin and CASE.corners.bin ([OUT_H, OUT_W, C]),
CASE being the argument with ':' replaced by '_'.
"""
import sys
import torch
import torch.nn.functional as F

out, cases = sys.argv[1], sys.argv[2:]
torch.manual_seed(0)
for case in cases:
    h, w, c, oh, ow = map(int, case.split(':'))
    x = torch.randn(h, w, c)
    name = case.replace(':', '_')
    x.numpy().tofile(f'{out}/{name}.input.bin')
    for suffix, aa, corners in [('plain', False, False), ('antialias', True, False), ('corners', False, True)]:
        y = F.interpolate(x.permute(2, 0, 1)[None], size=(oh, ow), mode='bicubic', align_corners=corners, antialias=aa)
        y[0].permute(1, 2, 0).contiguous().numpy().tofile(f'{out}/{name}.{suffix}.bin')
