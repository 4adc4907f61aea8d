"""Normal-only anomaly detectors on nih1000_64px (NIH ChestX-ray14, 64 px; the uploader's split): trained on the
300 normal training images, test AUC of normal (100) vs abnormal (100). The measurement behind the choice of
method of `train` with `task: anomaly` (docs/training.md, "Anomaly detection"; results in bench/results/anomaly.md).
usage: [METHODS=baselines,ae,svdd,fanogan] [PREP=none|clahe|equalize] [THREADS=1] [SEED=1] [AE_EPOCHS=30]
       [GAN_ITERS=1000] [ENC_ITERS=600] /usr/bin/python3 bench/anomaly_methods.py path/to/nih1000_64px"""
import csv, os, sys, time
import numpy as np, torch, torch.nn as nn
from PIL import Image
from sklearn.metrics import roc_auc_score

data = sys.argv[1]
env = lambda k, d: os.environ.get(k, d)
methods = env('METHODS', 'baselines,ae,svdd,fanogan').split(',')
prep = env('PREP', 'none')
torch.set_num_threads(int(env('THREADS', '1')))
torch.manual_seed(int(env('SEED', '1')))
rows = list(csv.DictReader(open(os.path.join(data, 'labels.csv'))))


def read(path):
    g = np.asarray(Image.open(path).convert('L'))
    if prep != 'none':
        import cv2
        g = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(g) if prep == 'clahe' else cv2.equalizeHist(g)
    return g.astype(np.float32) / 255


def load(split, label=None):
    rs = [r for r in rows if r['split'] == split and (label is None or r['label_name'] == label)]
    return torch.from_numpy(np.stack([read(os.path.join(data, r['image'])) for r in rs])[:, None]), np.array([r['label_name'] != 'normal' for r in rs], int)


xtr, _ = load('train', 'normal')
xte, yte = load('test')
auc = lambda s: roc_auc_score(yte, s)
report = lambda name, value, seconds=None: print(f'{name}: test AUC {value:.4f}' + (f' ({seconds:.0f} s)' if seconds is not None else ''), flush=True)
print(f'{len(xtr)} normal training images, {len(xte)} test ({yte.sum()} abnormal), prep {prep}, {torch.get_num_threads()} thread(s)', flush=True)


def knn(a, b, k=5):
    return torch.cdist(a.flatten(1), b.flatten(1)).topk(k, largest=False).values.mean(1).numpy()


W, Z = 32, 16


def encoder(bias=True):  # the pipeline's encoder (src/ml/anomaly/autoencoder.ts at width 1): 64 -> 4x4xZ
    layers, cin = [], 1
    for c in (W, 2 * W, 4 * W, 4 * W):
        layers += [nn.Conv2d(cin, c, 3, 2, 1, bias=bias), nn.BatchNorm2d(c, affine=bias), nn.ReLU()]
        cin = c
    return nn.Sequential(*layers, nn.Conv2d(cin, Z, 1, bias=bias))


def decoder():
    layers, cin = [], Z
    for c in (4 * W, 2 * W, W, W):
        layers += [nn.Upsample(scale_factor=2), nn.Conv2d(cin, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU()]
        cin = c
    return nn.Sequential(*layers, nn.Conv2d(cin, 1, 3, 1, 1), nn.Sigmoid())


def epochs(n, batch=32):
    for _ in range(n):
        for idx in torch.randperm(len(xtr)).split(batch):
            if len(idx) > 1: yield xtr[idx]


if 'baselines' in methods:
    report('mean image intensity (no model)', auc(xte.mean((1, 2, 3)).numpy()))
    report('pixel k-NN (k=5)', auc(knn(xte, xtr)))

if 'ae' in methods:
    t = time.time()
    E, G = encoder(), decoder()
    opt = torch.optim.Adam([*E.parameters(), *G.parameters()], 1e-3)
    for x in epochs(int(env('AE_EPOCHS', '30'))):
        loss = ((G(E(x)) - x) ** 2).mean(); opt.zero_grad(); loss.backward(); opt.step()
    E.eval(); G.eval()
    with torch.no_grad():
        res = ((G(E(xte)) - xte) ** 2).mean((1, 2, 3)).numpy()
        report('autoencoder (4x4x16 code), reconstruction MSE', auc(res), time.time() - t)
        report('autoencoder, latent k-NN to the normal training codes', auc(knn(E(xte), E(xtr))))
        report('autoencoder, MSE / mean squared intensity', auc(res / (xte ** 2).mean((1, 2, 3)).numpy()))

if 'svdd' in methods:  # Deep SVDD (Ruff et al. 2018): bias-free encoder, centre = mean initial code
    t = time.time()
    S = encoder(bias=False)
    with torch.no_grad(): S.eval(); c = S(xtr).mean(0, keepdim=True)
    S.train()
    opt = torch.optim.Adam(S.parameters(), 1e-4, weight_decay=1e-6)
    for x in epochs(30):
        loss = ((S(x) - c) ** 2).sum((1, 2, 3)).mean(); opt.zero_grad(); loss.backward(); opt.step()
    S.eval()
    with torch.no_grad(): report('Deep SVDD', auc(((S(xte) - c) ** 2).sum((1, 2, 3)).numpy()), time.time() - t)

if 'fanogan' in methods:  # f-AnoGAN (Schlegl et al. 2019): WGAN-GP, then the izi_f encoder with G and D frozen
    t = time.time()
    G = decoder()
    critic = nn.Sequential(*[m for m in encoder() if not isinstance(m, nn.BatchNorm2d)][:-1])  # features: no batch norm under a gradient penalty
    head = nn.Sequential(nn.Flatten(), nn.Linear(4 * W * 16, 1))
    D = lambda x: (head(critic(x)), critic(x))
    noise = lambda n: torch.randn(n, Z, 4, 4)
    og = torch.optim.Adam(G.parameters(), 1e-4, betas=(0.5, 0.9))
    od = torch.optim.Adam([*critic.parameters(), *head.parameters()], 1e-4, betas=(0.5, 0.9))
    iters, it = int(env('GAN_ITERS', '1000')), 0
    for x in epochs(10 ** 6):
        fake = G(noise(len(x))).detach()
        e = torch.rand(len(x), 1, 1, 1)
        mixed = (e * x + (1 - e) * fake).requires_grad_(True)
        gp = ((torch.autograd.grad(D(mixed)[0].sum(), mixed, create_graph=True)[0].flatten(1).norm(dim=1) - 1) ** 2).mean()
        loss = D(fake)[0].mean() - D(x)[0].mean() + 10 * gp; od.zero_grad(); loss.backward(); od.step()
        if it % 5 == 0:
            loss = -D(G(noise(32)))[0].mean(); og.zero_grad(); loss.backward(); og.step()
        it += 1
        if it >= iters: break
    gan_seconds = time.time() - t
    for p in [*G.parameters(), *critic.parameters(), *head.parameters()]: p.requires_grad_(False)
    G.eval()
    E = encoder()
    oe = torch.optim.Adam(E.parameters(), 1e-4, betas=(0.5, 0.9))
    for i, x in enumerate(epochs(10 ** 6)):
        r = G(E(x))
        loss = ((r - x) ** 2).mean() + ((D(r)[1] - D(x)[1]) ** 2).mean(); oe.zero_grad(); loss.backward(); oe.step()
        if i + 1 >= int(env('ENC_ITERS', '600')): break
    E.eval()
    with torch.no_grad():
        r = G(E(xte))
        res, feat = ((r - xte) ** 2).mean((1, 2, 3)).numpy(), ((D(r)[1] - D(xte)[1]) ** 2).mean((1, 2, 3)).numpy()
    report(f'f-AnoGAN izi_f score (residual + critic features; WGAN-GP {iters} critic steps {gan_seconds:.0f} s)', auc(res + feat), time.time() - t)
    report('f-AnoGAN, image residual only', auc(res))
    report('f-AnoGAN, critic-feature residual only', auc(feat))
