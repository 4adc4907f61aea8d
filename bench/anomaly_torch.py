"""The anomaly autoencoder of src/ml/anomaly/autoencoder.ts in PyTorch (same layers: four 3x3 stride-2 conv-BN-ReLU
levels with 32/64/128/128 x WIDTH filters, a 1x1 code conv, four nearest-upsampling + 3x3 conv-BN-ReLU levels, a 3x3
conv with a sigmoid), trained with the reconstruction MSE and Adam; scoring = the per-image MSE. Prints one JSON line.
usage: [TORCH_THREADS=1] /usr/bin/python3 bench/anomaly_torch.py SIZE BATCH STEPS [WIDTH=0.5] [BOTTLENECK=16]"""
import json, os, resource, sys, time
import torch, torch.nn as nn

size, batch, steps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3] if len(sys.argv) > 3 else 5)
width, bottleneck = float(sys.argv[4]) if len(sys.argv) > 4 else 0.5, int(sys.argv[5]) if len(sys.argv) > 5 else 16
torch.set_num_threads(int(os.environ.get('TORCH_THREADS', '1')))
torch.manual_seed(1)


def autoencoder(channels=1):
    f = [max(8, round(n * width)) for n in (32, 64, 128, 128)]
    layers, cin = [], channels
    for c in f:
        layers += [nn.Conv2d(cin, c, 3, 2, 1, bias=False), nn.BatchNorm2d(c, eps=1e-5, momentum=0.1), nn.ReLU()]
        cin = c
    layers.append(nn.Conv2d(cin, bottleneck, 1))
    cin = bottleneck
    for c in reversed(f):
        layers += [nn.Upsample(scale_factor=2, mode='nearest'), nn.Conv2d(cin, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU()]
        cin = c
    return nn.Sequential(*layers, nn.Conv2d(cin, channels, 3, 1, 1), nn.Sigmoid())


model = autoencoder()
opt = torch.optim.Adam(model.parameters(), 1e-3)
x = torch.rand(batch, 1, size, size)


def step():
    opt.zero_grad()
    loss = ((model(x) - x) ** 2).mean()
    loss.backward()
    opt.step()


cpu = lambda: sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
step()  # warm-up
t, c = time.perf_counter(), cpu()
for _ in range(steps): step()
train, train_cpu = steps * batch / (time.perf_counter() - t), steps * batch / (cpu() - c)
model.eval()
with torch.no_grad():
    ((model(x) - x) ** 2).mean((1, 2, 3))
    t, c = time.perf_counter(), cpu()
    for _ in range(steps): ((model(x) - x) ** 2).mean((1, 2, 3))
    infer, infer_cpu = steps * batch / (time.perf_counter() - t), steps * batch / (cpu() - c)
r = lambda v: round(v, 1)
print(json.dumps({'engine': f'pytorch {torch.__version__}', 'threads': torch.get_num_threads(), 'size': size, 'batch': batch, 'steps': steps, 'train': r(train), 'train_cpu': r(train_cpu), 'infer': r(infer), 'infer_cpu': r(infer_cpu)}))
