"""The anomaly autoencoder of src/ml/anomaly/autoencoder.ts in PyTorch (same layers: four 3x3 stride-2 conv-BN-ReLU
levels with 32/64/128/128 x WIDTH filters, a 1x1 code conv, four nearest-upsampling + 3x3 conv-BN-ReLU levels, a 3x3
conv with a sigmoid), trained with the reconstruction MSE and Adam; scoring = the per-image MSE. Prints one JSON line.
usage: [TORCH_THREADS=1] [IMAGES=file] /usr/bin/python3 bench/anomaly_torch.py SIZE BATCH STEPS [WIDTH=0.5] [BOTTLENECK=16]"""
from anomaly_bench import batches, bottleneck, count, filters, rate, report  # first: it sets the thread pools
import torch, torch.nn as nn


def autoencoder(channels=1):
    layers, cin = [], channels
    for c in filters():
        layers += [nn.Conv2d(cin, c, 3, 2, 1, bias=False), nn.BatchNorm2d(c, eps=1e-5, momentum=0.1), nn.ReLU()]
        cin = c
    layers.append(nn.Conv2d(cin, bottleneck, 1))
    cin = bottleneck
    for c in reversed(filters()):
        layers += [nn.Upsample(scale_factor=2, mode='nearest'), nn.Conv2d(cin, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU()]
        cin = c
    return nn.Sequential(*layers, nn.Conv2d(cin, channels, 3, 1, 1), nn.Sigmoid())


model = autoencoder()
opt = torch.optim.Adam(model.parameters(), 1e-3)
xs = batches()


def step(x):
    opt.zero_grad()
    loss = ((model(x) - x) ** 2).mean()
    loss.backward()
    opt.step()


train = rate(step, xs)
model.eval()
with torch.no_grad():
    infer = rate(lambda x: ((model(x) - x) ** 2).mean((1, 2, 3)), xs)
report({'train': train, 'scoring': infer}, {'autoencoder': count(model)})
