"""f-AnoGAN as the pipeline trains it (src/ml/anomaly/fanogan.ts, gan-trainer.ts, train-fanogan.ts) in PyTorch, for
bench/anomaly.sh: the same networks (G: the autoencoder's decoder from a (SIZE/16)^2 x BOTTLENECK z; D: four 3x3
stride-2 conv-ReLU levels with bias, no batch norm, and a linear head; E: D's trunk and a 1x1 conv to z), the same
steps: WGAN critic steps (RMSProp 5e-5, decay 0.99, eps 1e-8; G run forward in training mode without gradients;
then the Lipschitz constraint: each kernel as an [outputs, fan-in] matrix divided by max(1, sigma), sigma by 3 power
iterations from a kept vector, 50 on the initial kernels; or LIPSCHITZ=clip, every weight clipped to +-0.01), a
generator step (D frozen) after every 5th; LIPSCHITZ=gp: f-AnoGAN's original WGAN-GP instead, as the paper and
bench/anomaly_methods.py (gradient penalty 10 on random mixes of real and fake images, Adam 1e-4, betas 0.5 / 0.9;
the reference bench/anomaly.sh's method f-anogan-gp compares ours with); then izi_f encoder steps (Adam 1e-3; G in eval mode, G and D frozen;
loss mean((x - G(E(x)))^2) + mean((f(x) - f(G(E(x))))^2)); scoring = that loss per image. Prints one JSON line.
usage: [TORCH_THREADS=1] [IMAGES=file] [LIPSCHITZ=spectral|clip|gp] /usr/bin/python3 bench/fanogan_torch.py SIZE BATCH STEPS [WIDTH=0.5] [BOTTLENECK=16]"""
import math, os, sys
from anomaly_bench import batch, batches, bottleneck, count, filters, rate, report, size, steps  # first: it sets the thread pools
import torch, torch.nn as nn

N_CRITIC, LR, CLIP, KAPPA, GP = 5, 5e-5, 0.01, 1.0, 10.0
lipschitz = os.environ.get('LIPSCHITZ', 'spectral')
if lipschitz not in ('spectral', 'clip', 'gp'): sys.exit(f'LIPSCHITZ: spectral, clip or gp, got {lipschitz}')
steps = math.ceil(steps / N_CRITIC) * N_CRITIC
latent = size // 16


def trunk():
    layers, cin = [], 1
    for c in filters():
        layers += [nn.Conv2d(cin, c, 3, 2, 1), nn.ReLU()]
        cin = c
    return nn.Sequential(*layers)


def generator():
    layers, cin = [], bottleneck
    for c in reversed(filters()):
        layers += [nn.Upsample(scale_factor=2, mode='nearest'), nn.Conv2d(cin, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c, eps=1e-5, momentum=0.1), nn.ReLU()]
        cin = c
    return nn.Sequential(*layers, nn.Conv2d(cin, 1, 3, 1, 1), nn.Sigmoid())


G, features = generator(), trunk()
head = nn.Sequential(nn.Flatten(), nn.Linear(filters()[-1] * latent * latent, 1))
D = nn.Sequential(features, head)
E = nn.Sequential(trunk(), nn.Conv2d(filters()[-1], bottleneck, 1))
params = {'generator': count(G), 'critic': count(D), 'encoder': count(E)}


class SpectralProjection:
    """The pipeline's projection (src/ml/anomaly/lipschitz.ts), in torch ops on the kernels in place."""

    def __init__(self, kernels):
        self.kernels = [k.view(k.shape[0], -1) for k in kernels]  # [outputs, fan-in] views of the parameters
        self.vectors = [torch.randn(k.shape[0]) for k in self.kernels]
        with torch.no_grad():
            for i in range(len(self.kernels)): self.iterate(i, 50)

    def iterate(self, i, iterations):
        w, v = self.kernels[i], nn.functional.normalize(self.vectors[i], dim=0)
        for _ in range(iterations): v = nn.functional.normalize(w @ nn.functional.normalize(w.t() @ v, dim=0), dim=0)
        self.vectors[i] = v
        return (w.t() @ v).norm()

    @torch.no_grad()
    def project(self):
        for i, w in enumerate(self.kernels):
            sigma = self.iterate(i, 3)
            if sigma > 1: w.div_(sigma)


if lipschitz == 'gp': optimizer = lambda ps: torch.optim.Adam(ps, 1e-4, betas=(0.5, 0.9))
else: optimizer = lambda ps: torch.optim.RMSprop(ps, LR, alpha=0.99, eps=1e-8)
od, og = optimizer(D.parameters()), optimizer(G.parameters())
spectral = SpectralProjection([p for p in D.parameters() if p.dim() >= 2]) if lipschitz == 'spectral' else None
critic_steps = 0


def set_trainable(module, on):
    for p in module.parameters(): p.requires_grad_(on)


def wgan_step(x):
    global critic_steps
    with torch.no_grad(): fake = G(torch.randn(batch, bottleneck, latent, latent))
    loss = D(fake).mean() - D(x).mean()
    if lipschitz == 'gp':
        e = torch.rand(batch, 1, 1, 1)
        mixed = (e * x + (1 - e) * fake).requires_grad_(True)
        grad = torch.autograd.grad(D(mixed).sum(), mixed, create_graph=True)[0]
        loss = loss + GP * ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
    od.zero_grad(); loss.backward(); od.step()
    if spectral: spectral.project()
    elif lipschitz == 'clip':
        with torch.no_grad():
            for p in D.parameters(): p.clamp_(-CLIP, CLIP)
    critic_steps += 1
    if critic_steps % N_CRITIC == 0:
        set_trainable(D, False)
        loss = -D(G(torch.randn(batch, bottleneck, latent, latent))).mean()
        og.zero_grad(); loss.backward(); og.step()
        set_trainable(D, True)


def izi_f(x):
    """Per image: mean((x - G(E(x)))^2) + kappa * mean((f(x) - f(G(E(x))))^2)."""
    r = G(E(x))
    return ((r - x) ** 2).mean((1, 2, 3)) + KAPPA * ((features(r) - features(x)) ** 2).mean((1, 2, 3))


oe = torch.optim.Adam(E.parameters(), 1e-3)


def encoder_step(x):
    loss = izi_f(x).mean()
    oe.zero_grad(); loss.backward(); oe.step()


xs = batches()
G.train()
wgan = rate(wgan_step, xs, steps, warmup=N_CRITIC)
G.eval()
set_trainable(G, False); set_trainable(D, False)
encoder = rate(encoder_step, xs, steps)
E.eval()
with torch.no_grad(): scoring = rate(izi_f, xs, steps)
report({'wgan': wgan, 'encoder': encoder, 'scoring': scoring}, params, steps=steps, lipschitz=lipschitz, n_critic=N_CRITIC)
