"""Transformers from scratch in PyTorch, side by side with the zoo (docs/training.md, "Learning rate from scratch").

torchvision 0.14's swin_t / VisionTransformer (vit-tiny sizes) on 1-channel 64 px images in [0, 1] (the
zoo's default: no normalisation), 2 classes, CrossEntropyLoss, Adam, batch 16, no schedule. `--init zoo`
re-initialises the torchvision model with the zoo's Keras scheme (Glorot uniform Linear weights incl. the
head, zero biases, He normal patch conv: swin-tiny's before train stage version 3, the ViTs' still), so the recipe is the same and only the initial weights differ.
Per epoch: mean training loss, the share of images whose softmax probability falls below 1e-7 (where the
zoo's loss clips and passes no gradient), the validation loss. `--stats` prints the initial weights' std
per kind instead.
Results: bench/results/transformer-scratch.md.
usage: /usr/bin/python3 bench/transformer_scratch.py DIR [--arch swin|vit] [--lr 1e-4] [--init torch|zoo] [--epochs 3] [--stats]
  DIR: a folder with labels.csv (image, label, split columns; train and val rows) as nih1000_64px.
"""
import argparse, csv, math, os, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from torchvision.models import swin_t
from torchvision.models.vision_transformer import VisionTransformer


def load(folder, split):
    xs, ys = [], []
    with open(os.path.join(folder, 'labels.csv')) as f:
        for row in csv.DictReader(f):
            if row['split'] != split:
                continue
            img = Image.open(os.path.join(folder, row['image'])).convert('L').resize((64, 64), Image.BILINEAR)
            xs.append(np.asarray(img, dtype=np.float32) / 255)
            ys.append(int(row['label']))
    return torch.from_numpy(np.stack(xs))[:, None], torch.tensor(ys)


def build(arch, classes):
    if arch == 'swin':
        m = swin_t(num_classes=classes)
        old = m.features[0][0]
        m.features[0][0] = nn.Conv2d(1, old.out_channels, old.kernel_size, old.stride)  # default Conv2d init, as torchvision's
        return m
    m = VisionTransformer(image_size=64, patch_size=16, num_layers=12, num_heads=3, hidden_dim=192, mlp_dim=768, num_classes=classes)
    old = m.conv_proj
    m.conv_proj = nn.Conv2d(1, old.out_channels, old.kernel_size, old.stride)
    fan_in = m.conv_proj.in_channels * 16 * 16
    nn.init.trunc_normal_(m.conv_proj.weight, std=math.sqrt(1 / fan_in))  # as VisionTransformer.__init__
    nn.init.zeros_(m.conv_proj.bias)
    return m


def zoo_init(m):
    """The zoo's Keras scheme: Glorot uniform Linear weights (incl. the head), zero biases, He normal convs."""
    for mod in m.modules():
        if isinstance(mod, nn.Linear):
            nn.init.xavier_uniform_(mod.weight)
            if mod.bias is not None:
                nn.init.zeros_(mod.bias)
        elif isinstance(mod, nn.Conv2d):
            nn.init.kaiming_normal_(mod.weight, nonlinearity='relu')
            nn.init.zeros_(mod.bias)
        elif isinstance(mod, nn.MultiheadAttention):
            nn.init.xavier_uniform_(mod.in_proj_weight)
            nn.init.zeros_(mod.in_proj_bias)


def kind(name, p):
    if 'relative_position_bias_table' in name: return 'rel. position bias table'
    if 'pos_embedding' in name: return 'position embedding'
    if 'class_token' in name: return 'class token'
    if name.startswith('head'): return 'head ' + ('weight' if p.dim() > 1 else 'bias')
    if 'norm' in name or 'ln' in name or name.startswith('features.0.2'): return 'LayerNorm ' + ('gamma' if name.endswith('weight') else 'beta')
    if p.dim() == 4: return 'patch conv weight'
    if name.startswith('features.0.0') or name.startswith('conv_proj'): return 'patch conv bias'
    return 'linear ' + ('weight' if p.dim() > 1 else 'bias')


def stats(m):
    groups = {}
    for name, p in m.named_parameters():
        groups.setdefault(kind(name, p), []).append(p.detach().flatten())
    for k, ps in sorted(groups.items()):
        v = torch.cat(ps)
        print(f'{k:28s} n={v.numel():9d} std={v.std().item():.4f} mean={v.mean().item():+.4f} max|.|={v.abs().max().item():.4f}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('dir'); ap.add_argument('--arch', default='swin'); ap.add_argument('--lr', type=float, default=1e-4)
    ap.add_argument('--init', default='torch'); ap.add_argument('--epochs', type=int, default=3); ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--seed', type=int, default=1); ap.add_argument('--stats', action='store_true')
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    m = build(a.arch, 2)
    if a.init == 'zoo':
        zoo_init(m)
    if a.stats:
        stats(m); return
    x, y = load(a.dir, 'train'); xv, yv = load(a.dir, 'val')
    opt = torch.optim.Adam(m.parameters(), lr=a.lr)
    print(f'# {a.arch} init {a.init} lr {a.lr} batch {a.batch}: {len(y)} train / {len(yv)} valid images, threads {torch.get_num_threads()}, load {os.getloadavg()[0]:.2f}')
    t0, c0 = time.time(), time.process_time()
    for epoch in range(1, a.epochs + 1):
        m.train()
        order = torch.randperm(len(y))
        losses, clipped = [], 0
        for i in range(0, len(y), a.batch):
            idx = order[i:i + a.batch]
            logits = m(x[idx])
            loss = F.cross_entropy(logits, y[idx])
            opt.zero_grad(); loss.backward()
            if epoch == 1 and i == 0:
                gn = torch.sqrt(sum((p.grad ** 2).sum() for p in m.parameters() if p.grad is not None)).item()
                print(f'first step: loss {loss.item():.4f}, gradient norm {gn:.4f}')
            opt.step()
            losses.append(loss.item() * len(idx))
            clipped += (F.softmax(logits, 1).min(1).values < 1e-7).sum().item()
        m.eval()
        with torch.no_grad():
            vl = F.cross_entropy(m(xv), yv).item()
        print(f'epoch {epoch}: loss {sum(losses) / len(y):.4f}, images below 1e-7 {clipped}/{len(y)}, val_loss {vl:.4f}')
    print(f'# wall {time.time() - t0:.1f} s, CPU {time.process_time() - c0:.1f} s, load {os.getloadavg()[0]:.2f}')


if __name__ == '__main__':
    main()
