"""MedMNIST v2's PyTorch baseline (ResNet-18 for 28 px) on any MedMNIST-layout .npz: the reference that
bench/medmnist.sh runs next to experiments/medmnist.yaml, to tell a bug in the pipeline's path from a
property of the data.

Re-implements MedMNIST/experiments `MedMNIST2D/train_and_eval_pytorch.py` and `MedMNIST2D/models.py`
and the `medmnist` package's `evaluator.py` (getAUC / getACC). Checked line by line against those three
files as the code search here holds them (train_and_eval_pytorch.py at 11409d84, models.py at 853dee5f,
evaluator.py at 025c9d6e):
  - model: conv1 3x3 stride 1 pad 1 (no bias) + BN + ReLU, no max pool, BasicBlocks [2, 2, 2, 2] at
    64/128/256/512 with 1x1 conv + BN shortcuts where the shape changes, adaptive avg pool, linear;
    PyTorch's default initialisation (their code sets none)
  - input: ToTensor (uint8 / 255, HWC -> CHW) then Normalize(mean .5, std .5); [N, H, W] archives are
    1 channel, [N, H, W, 3] are 3 (their `as_rgb` turns grey into 3 equal channels: `--as-rgb`)
  - Adam(lr 1e-3), batch 128 shuffled (DataLoader shuffle=True, last partial batch kept), MultiStepLR
    with milestones [0.5 * E, 0.75 * E] (floats, as theirs), gamma 0.1, stepped once per epoch
  - CrossEntropyLoss on squeezed labels (binary and multi-class), BCEWithLogitsLoss (multi-label)
  - evaluation: softmax (sigmoid for multi-label) scores; AUC: binary = roc_auc of the last column,
    multi-class = mean one-vs-rest, multi-label = mean per label; ACC: binary = last column > 0.5,
    multi-class = argmax, multi-label = mean per-label accuracy of score >= 0.5
  - model selection: the epoch with the highest val AUC (strictly greater, starting from 0)
Where this differs from their script, on purpose: their `best_model = model` keeps a reference, so the
model they save and test is the last epoch's although they log the best epoch; this script tests a copy
of the best epoch's weights (what the paper describes and what `monitor: val_auc` does) and also prints
the last epoch's test AUC / ACC (what their script reports). Their task and class count come from the
medmnist package's INFO; here from the archive (label columns > 1: multi-label; else classes = max
label + 1; `--task` overrides). Not checked: the medmnist package's image decoding beyond `npz[...]`
and PIL `fromarray` (the .npz is read directly here), and anything GPU-specific.

  /usr/bin/python3 bench/medmnist_torch.py ARCHIVE.npz [--epochs 20] [--seed 1] [--threads 1]

Options to compare starts and inputs with the pipeline's (not part of MedMNIST's recipe): --save-init
writes the initial weights as ONNX (for `weights:`), --init zoo draws the zoo's Keras-style initialisers,
--init-from takes the zoo's exact weights (bench/zoo-init-dump.ts), --input unit feeds x / 255 unshifted.

Prints one line per epoch (train loss, val AUC, test AUC), the best epoch, test AUC / ACC of the best
and of the last epoch, wall and CPU time, and a final `result {json}` line for bench/medmnist.sh.
"""
import argparse
import copy
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.metrics import accuracy_score, roc_auc_score

BINARY, MULTICLASS, MULTILABEL = 'binary-class', 'multi-class', 'multi-label, binary-class'


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet18Small(nn.Module):
    """MedMNIST's ResNet18(in_channels, num_classes) for 28 px inputs."""

    def __init__(self, in_channels, num_classes):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        layers, cin = [], 64
        for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            layers.append(nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)))
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.linear = nn.Linear(512, num_classes)

    def forward(self, x):
        out = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.linear(torch.flatten(self.avgpool(out), 1))


def zoo_init(model):
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            std = (2 / nn.init._calculate_correct_fan(m.weight, 'fan_in')) ** 0.5  # tfjs heNormal: truncated at 2 sd
            nn.init.trunc_normal_(m.weight, std=std, a=-2 * std, b=2 * std)
        elif isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)


def get_auc(y_true, y_score, task):
    if task == BINARY:
        return roc_auc_score(y_true, y_score[:, -1])
    if task == MULTILABEL:
        return float(np.mean([roc_auc_score(y_true[:, i], y_score[:, i]) for i in range(y_score.shape[1])]))
    return float(np.mean([roc_auc_score((y_true == i).astype(int), y_score[:, i]) for i in range(y_score.shape[1])]))


def get_acc(y_true, y_score, task, threshold=0.5):
    if task == MULTILABEL:
        pred = (y_score >= threshold).astype(int)
        return float(np.mean([accuracy_score(y_true[:, i], pred[:, i]) for i in range(y_true.shape[1])]))
    if task == BINARY:
        return accuracy_score(y_true, (y_score[:, -1] > threshold).astype(int))
    return accuracy_score(y_true, np.argmax(y_score, axis=1))


def load_zoo_weights(model, path):
    """Copies a bench/zoo-init-dump.ts dump (tfjs names and layouts) into ResNet18Small."""
    with open(path) as f:
        dump = json.load(f)
    tensor = lambda name: torch.tensor(dump[name]['data'], dtype=torch.float32).reshape(dump[name]['shape'])
    conv = lambda m, name: m.weight.data.copy_(tensor(name + '/kernel').permute(3, 2, 0, 1))  # HWIO -> OIHW

    def bn(m, name):
        m.weight.data.copy_(tensor(name + '/gamma'))
        m.bias.data.copy_(tensor(name + '/beta'))
        m.running_mean.copy_(tensor(name + '/moving_mean'))
        m.running_var.copy_(tensor(name + '/moving_variance'))
    conv(model.conv1, 'stem_conv')
    bn(model.bn1, 'stem_bn')
    for i, stage in enumerate(model.layers):
        for j, block in enumerate(stage):
            p = f's{i + 1}b{j + 1}'
            conv(block.conv1, p + '_1_conv')
            bn(block.bn1, p + '_1_bn')
            conv(block.conv2, p + '_2_conv')
            bn(block.bn2, p + '_2_bn')
            if len(block.shortcut):
                conv(block.shortcut[0], p + '_down_conv')
                bn(block.shortcut[1], p + '_down_bn')
    model.linear.weight.data.copy_(tensor('logits/kernel').T)
    model.linear.bias.data.copy_(tensor('logits/bias'))


def load(path, as_rgb, shift=True):
    try:
        npz = np.load(path)
    except (OSError, ValueError) as err:
        sys.exit(f'{path}: not a readable .npz ({err})')
    parts = {}
    for split in ('train', 'val', 'test'):
        for key in (f'{split}_images', f'{split}_labels'):
            if key not in npz.files:
                sys.exit(f'{path}: no {key} (a MedMNIST archive has train/val/test _images and _labels)')
        images, labels = npz[f'{split}_images'], npz[f'{split}_labels']
        if images.dtype != np.uint8 or images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[3] != 3):
            sys.exit(f'{path}: {split}_images is {images.dtype} {images.shape}; expected uint8 [N,H,W] or [N,H,W,3]')
        if labels.ndim == 1:
            labels = labels[:, None]
        if labels.ndim != 2 or len(labels) != len(images):
            sys.exit(f'{path}: {split}_labels {labels.shape} does not match {split}_images {images.shape}')
        x = torch.from_numpy(images).float().div(255)  # ToTensor
        x = x[:, None] if x.ndim == 3 else x.permute(0, 3, 1, 2)
        if as_rgb and x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1).contiguous()
        parts[split] = ((x - 0.5) / 0.5 if shift else x, labels.astype(np.int64))  # Normalize(mean=[.5], std=[.5])
    return parts


def scores(model, x, task, batch):
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            logits = model(x[i:i + batch])
            out.append(torch.sigmoid(logits) if task == MULTILABEL else torch.softmax(logits, 1))
    return torch.cat(out).numpy()


def evaluate(model, part, task, batch):
    x, y = part
    s = scores(model, x, task, batch)
    y_eval = y if task == MULTILABEL else y[:, 0]
    return get_auc(y_eval, s, task), get_acc(y_eval, s, task)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('archive')
    ap.add_argument('--epochs', type=int, default=100)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--task', choices=[BINARY, MULTICLASS, MULTILABEL])
    ap.add_argument('--init', choices=['torch', 'zoo'], default='torch',
                    help="zoo: the pipeline zoo's Keras-style initialisers (He-normal convs, Glorot-uniform linear, zero bias) instead of PyTorch's defaults")
    ap.add_argument('--init-from', metavar='JSON', help="start from the pipeline zoo's weights written by bench/zoo-init-dump.ts")
    ap.add_argument('--input', choices=['shifted', 'unit'], default='shifted',
                    help='shifted: (x / 255 - 0.5) / 0.5 as MedMNIST; unit: x / 255 in [0, 1] as the pipeline feeds it')
    ap.add_argument('--save-init', metavar='ONNX', help='also write the initial weights as ONNX (batch norms kept), for `weights:`')
    ap.add_argument('--as-rgb', action='store_true', help='grey archives as 3 equal channels (their --as_rgb)')
    args = ap.parse_args()
    if args.epochs < 1:
        sys.exit('--epochs must be >= 1')
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    wall0, cpu0 = time.time(), time.process_time()

    parts = load(args.archive, args.as_rgb, shift=args.input == 'shifted')
    train_x, train_y = parts['train']
    columns = train_y.shape[1]
    n_classes = columns if columns > 1 else int(max(p[1].max() for p in parts.values())) + 1
    task = args.task or (MULTILABEL if columns > 1 else BINARY if n_classes == 2 else MULTICLASS)
    model = ResNet18Small(train_x.shape[1], n_classes)
    if args.init == 'zoo':
        zoo_init(model)
    if args.init_from:
        load_zoo_weights(model, args.init_from)
    if args.save_init:
        model.eval()
        torch.onnx.export(model, train_x[:1], args.save_init, training=torch.onnx.TrainingMode.PRESERVE,
                          do_constant_folding=False, input_names=['input'], output_names=['logits'])
    criterion = nn.BCEWithLogitsLoss() if task == MULTILABEL else nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[0.5 * args.epochs, 0.75 * args.epochs], gamma=0.1)
    targets = torch.from_numpy(train_y).float() if task == MULTILABEL else torch.from_numpy(train_y[:, 0])
    print(f'{os.path.basename(args.archive)}: {task}, {n_classes} {"labels" if task == MULTILABEL else "classes"}, '
          f'{train_x.shape[1]} channel(s), {train_x.shape[2]} px; train {len(train_x)}, val {len(parts["val"][0])}, '
          f'test {len(parts["test"][0])}; seed {args.seed}, {args.threads} thread(s)', flush=True)

    best_auc, best_epoch, best_state, history = 0.0, 0, None, []
    for epoch in range(1, args.epochs + 1):
        model.train()
        lr = optimizer.param_groups[0]['lr']
        order, losses = torch.randperm(len(train_x)), []
        for i in range(0, len(order), args.batch):
            idx = order[i:i + args.batch]
            optimizer.zero_grad()
            loss = criterion(model(train_x[idx]), targets[idx])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        val_auc, _ = evaluate(model, parts['val'], task, args.batch)
        test_auc, _ = evaluate(model, parts['test'], task, args.batch)
        scheduler.step()
        history.append({'epoch': epoch, 'train_loss': float(np.mean(losses)), 'val_auc': val_auc, 'test_auc': test_auc})
        print(f'epoch {epoch}/{args.epochs}: train_loss {np.mean(losses):.4f} val_auc {val_auc:.4f} test_auc {test_auc:.4f} '
              f'lr {lr:.0e}', flush=True)
        if val_auc > best_auc:
            best_auc, best_epoch, best_state = val_auc, epoch, copy.deepcopy(model.state_dict())

    last = evaluate(model, parts['test'], task, args.batch)
    if best_state is not None:
        model.load_state_dict(best_state)
    best = evaluate(model, parts['test'], task, args.batch)
    wall, cpu = time.time() - wall0, time.process_time() - cpu0
    print(f'best epoch {best_epoch} (val_auc {best_auc:.4f}): test auc {best[0]:.4f} acc {best[1]:.4f}')
    print(f'last epoch {args.epochs} (what their script tests): test auc {last[0]:.4f} acc {last[1]:.4f}')
    print(f'wall {wall:.1f} s, cpu {cpu:.1f} s, load {os.getloadavg()[0]:.2f}')
    print('result ' + json.dumps({'task': task, 'best_epoch': best_epoch, 'best_val_auc': best_auc,
                                  'test_auc': best[0], 'test_acc': best[1], 'last_test_auc': last[0],
                                  'last_test_acc': last[1], 'wall_s': wall, 'cpu_s': cpu, 'history': history}))


if __name__ == '__main__':
    main()
