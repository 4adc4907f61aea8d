"""Float64 reference gradients of one training step of a zoo model, for bench/train-grad-check.ts.

Reads a model description (JSON: the tfjs layer calls in topological order with their configs) and a
binary file of float32 weights / batch, evaluates the same network in float64 with PyTorch autograd
(TensorFlow's 'same' padding, training-mode batch norm, the losses of src/ml/losses/losses.ts), and
writes the loss and every trainable weight's gradient (tfjs layout) as float64.
usage: /usr/bin/python3 bench/train_grad_reference.py DESCRIPTION.json DATA.bin OUT.bin [FLIPS] [LIMIT=48]"""
import json, sys
import numpy as np
import torch
import torch.nn.functional as F

EPSILON = 1e-7


def same_pads(size, k, s):
    total = max((-(-size // s) - 1) * s + k - size, 0)
    return total // 2, total - total // 2


KINKS = []  # (distance of a pre-activation value to a ReLU kink, layer name, flat index), float64
FLIP = {}  # layer name -> flat index whose kink derivative is flipped (forward value unchanged)


def kinked(x, cap, name, y):
    """Notes the values nearest a kink of a (capped) ReLU of x; flips the derivative at FLIP[name]."""
    v = x.detach().reshape(-1)
    distance = v.abs() if cap is None else torch.minimum(v.abs(), (v - cap).abs())
    for i in torch.topk(distance, min(8, distance.numel()), largest=False).indices.tolist():
        KINKS.append((distance[i].item(), name, i))
    if name in FLIP:
        i = FLIP[name]
        passes = v[i] > 0 and (cap is None or v[i] < cap)
        delta = torch.zeros_like(v)
        delta[i] = -1.0 if passes else 1.0
        y = y + (x - x.detach()) * delta.reshape(x.shape)
    return y


def activation(x, kind, name=''):
    if kind in (None, 'linear'):
        return x
    if kind == 'relu':
        return kinked(x, None, name, torch.relu(x))
    if kind == 'relu6':
        return kinked(x, 6.0, name, torch.minimum(torch.tensor(6.0, dtype=x.dtype), torch.relu(x)))
    if kind == 'sigmoid':
        return torch.sigmoid(x)
    if kind == 'swish':
        return torch.sigmoid(x) * x
    if kind == 'softmax':
        return torch.softmax(x, dim=1)
    raise ValueError(f'activation {kind}')


def pad_same(x, kernel, strides, value=0.0):
    top, bottom = same_pads(x.shape[2], kernel[0], strides[0])
    left, right = same_pads(x.shape[3], kernel[1], strides[1])
    return F.pad(x, (left, right, top, bottom), value=value)


def layer(cls, cfg, xs, w, name):
    x = xs[0]
    if cls in ('Conv2D', 'DepthwiseConv2D'):
        k = w[0]
        if cls == 'Conv2D':
            weight, groups = k.permute(3, 2, 0, 1), 1
        else:
            weight, groups = k.permute(2, 3, 0, 1).reshape(-1, 1, k.shape[0], k.shape[1]), x.shape[1]
        if cfg['padding'] == 'same':
            x = pad_same(x, cfg['kernelSize'], cfg['strides'])
        y = F.conv2d(x, weight, w[1] if cfg.get('useBias') else None, stride=cfg['strides'], groups=groups)
        return activation(y, cfg.get('activation'), name)
    if cls == 'BatchNormalization':
        mean = x.mean(dim=(0, 2, 3), keepdim=True)
        var = ((x - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
        shape = (1, -1, 1, 1)
        return (x - mean) / torch.sqrt(var + cfg['epsilon']) * w[0].reshape(shape) + w[1].reshape(shape)
    if cls == 'Activation':
        return activation(x, cfg['activation'], name)
    if cls == 'ReLU':
        y = torch.relu(x)
        cap = cfg.get('maxValue')
        return kinked(x, cap, name, torch.clamp(y, 0, cap) if cap is not None else y)
    if cls == 'MaxPooling2D':
        strides = cfg['strides'] or cfg['poolSize']
        if cfg['padding'] == 'same':
            x = pad_same(x, cfg['poolSize'], strides, value=-float('inf'))
        return F.max_pool2d(x, cfg['poolSize'], strides)
    if cls == 'AveragePooling2D':
        strides = cfg['strides'] or cfg['poolSize']
        ones = torch.ones_like(x[:1, :1])
        if cfg['padding'] == 'same':
            x, ones = pad_same(x, cfg['poolSize'], strides), pad_same(ones, cfg['poolSize'], strides)
        return F.avg_pool2d(x, cfg['poolSize'], strides) / F.avg_pool2d(ones, cfg['poolSize'], strides)
    if cls == 'GlobalAveragePooling2D':
        return x.mean(dim=(2, 3))
    if cls == 'Dense':
        y = x @ w[0]
        if cfg.get('useBias'):
            y = y + w[1]
        return activation(y, cfg.get('activation'), name)
    if cls == 'Add':
        return sum(xs[1:], xs[0])
    if cls == 'Multiply':
        a, b = xs
        if a.dim() != b.dim():
            a, b = (a, b[:, :, None, None]) if a.dim() == 4 else (a[:, :, None, None], b)
        return a * b
    if cls == 'Concatenate':
        return torch.cat(xs, dim=1 if xs[0].dim() == 4 else -1)
    if cls == 'Dropout':
        return x
    if cls == 'ZeroPadding2D':
        (top, bottom), (left, right) = cfg['padding']
        return F.pad(x, (left, right, top, bottom))
    raise ValueError(f'layer class {cls}')


def loss_of(spec, y, p):
    q = torch.clamp(p, EPSILON, 1 - EPSILON)
    kind, o = spec['kind'], spec.get('options', {})
    cw = torch.tensor(spec['classWeights'], dtype=torch.float64) if spec.get('classWeights') else None
    weighted = (lambda t: t * cw) if cw is not None else (lambda t: t)
    if kind == 'bce':
        return weighted(-(y * torch.log(q) + (1 - y) * torch.log(1 - q))).mean()
    if kind == 'ce':
        return weighted(-(y * torch.log(q))).sum(1).mean()
    if kind == 'focal':
        a, g = o.get('alpha', 0.25), o.get('gamma', 2)
        pos = y * (1 - q) ** g * torch.log(q)
        if o.get('softmax'):
            return weighted(-a * pos).sum(1).mean()
        neg = (1 - y) * q ** g * torch.log(1 - q)
        return weighted(-(a * pos + (1 - a) * neg)).mean()
    if kind == 'asl':
        gn, gp, clip = o.get('gamma_neg', 4), o.get('gamma_pos', 1), o.get('clip', 0.05)
        m = torch.clamp(q - clip, min=0) if clip > 0 else q
        pos = y * (1 - q) ** gp * torch.log(q)
        neg = (1 - y) * m ** gn * torch.log(torch.clamp(1 - m, EPSILON, 1))
        return weighted(-(pos + neg)).mean()
    raise ValueError(f'loss {kind}')


def step(desc, x, y, weights):
    values = {}
    for node in desc['nodes']:
        if node['class'] == 'InputLayer':
            values[node['id']] = x
            continue
        values[node['id']] = layer(node['class'], node['config'], [values[i] for i in node['inputs']], [weights[wd['name']] for wd in node['weights']], node['name'])
    loss = loss_of(desc['loss'], y, values[desc['nodes'][-1]['id']])
    grads = torch.autograd.grad(loss, [weights[name] for name in desc['trainable']])
    return loss.item(), np.concatenate([g.detach().numpy().ravel() for g in grads])


def main():
    """Writes the loss, the gradients, then the gradients with the derivative flipped at each of the
    FLIPS pre-activation values nearest a kink in every (capped) ReLU layer (one at a time); prints
    those values as JSON."""
    torch.set_default_dtype(torch.float64)
    desc = json.load(open(sys.argv[1]))
    flips = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    data = np.fromfile(sys.argv[2], dtype=np.float32).astype(np.float64)
    offset = 0

    def take(shape):
        nonlocal offset
        size = int(np.prod(shape))
        t = torch.tensor(data[offset:offset + size].reshape(shape))
        offset += size
        return t

    x = take(desc['x']).permute(0, 3, 1, 2)
    y = take(desc['y'])
    weights = {}
    for node in desc['nodes']:
        for wd in node['weights']:
            weights[wd['name']] = take(wd['shape']).requires_grad_(wd['trainable'])
    loss, grads = step(desc, x, y, weights)
    # candidates: the `flips` values nearest a kink in each (capped) ReLU layer
    per_layer = {}
    for d, name, i in sorted(KINKS):
        per_layer.setdefault(name, [])
        if len(per_layer[name]) < max(flips, 1):
            per_layer[name].append((d, name, i))
    # at most `limit` candidates overall, the nearest: each writes a whole gradient vector (DenseNet-121: 56 MB)
    limit = int(sys.argv[5]) if len(sys.argv) > 5 else 48
    kinks = sorted(k for ks in per_layer.values() for k in ks)[:limit]
    flipped = []
    for _, name, index in (kinks if flips else []):
        FLIP.clear()
        FLIP[name] = index
        flipped.append(step(desc, x, y, weights)[1])
    print(json.dumps({'kinks': [{'distance': d, 'layer': name, 'index': i} for d, name, i in (kinks if flips else kinks[:1])]}))
    np.concatenate([[loss], grads] + flipped).astype(np.float64).tofile(sys.argv[3])


if __name__ == '__main__':
    main()
