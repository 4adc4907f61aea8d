"""PyTorch CPU reference for bench/train.sh: the same architectures (small CNN, ResNet-18; DenseNet-121 and
EfficientNet-B0 from torchvision with a 1-channel stem, no dropout or stochastic depth, as our zoo's),
input size, batch, loss (BCE on sigmoid outputs) and optimizer (Adam) as bench/train.ts. RECIPE=vinbig-cls:
experiments/vinbig-cls.yaml's training recipe instead (asymmetric loss 4/1/0.05, mixup 0.2 each step,
label smoothing 0.1). Prints one JSON line.
usage: /usr/bin/python3 bench/train.py ARCH SIZE BATCH STEPS   (TORCH_THREADS=N: torch.set_num_threads(N))"""
import json, os, sys, time
import torch
import torch.nn as nn


def conv_bn_relu(cin, cout, stride=1, k=3, relu=True):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1)]
    return nn.Sequential(*layers, nn.ReLU(inplace=True)) if relu else nn.Sequential(*layers)


def small_cnn(classes):
    layers, cin = [], 1
    for f in (32, 64, 128):
        layers += [conv_bn_relu(cin, f), conv_bn_relu(f, f), nn.MaxPool2d(2, 2)]
        cin = f
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, classes))


class Basic(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.a = conv_bn_relu(cin, cout, stride)
        self.b = conv_bn_relu(cout, cout, relu=False)
        self.down = conv_bn_relu(cin, cout, stride, k=1, relu=False) if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x):
        return torch.relu(self.b(self.a(x)) + self.down(x))


def resnet18(classes):
    layers, cin = [conv_bn_relu(1, 64, 2, k=7), nn.MaxPool2d(3, 2, 1)], 64
    for stage, f in enumerate((64, 128, 256, 512)):
        for i in range(2):
            layers.append(Basic(cin, f, 2 if stage > 0 and i == 0 else 1))
            cin = f
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, classes))


def densenet121(classes):
    from torchvision.models import densenet121 as tv
    model = tv(num_classes=classes)
    model.features.conv0 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)
    return model


def efficientnet_b0(classes):
    from torchvision.models import efficientnet_b0 as tv
    model = tv(num_classes=classes, stochastic_depth_prob=0.0)
    model.features[0][0] = nn.Conv2d(1, 32, 3, 2, 1, bias=False)
    model.classifier[0].p = 0.0
    return model


def asymmetric_loss(logits, y, gamma_neg=4.0, gamma_pos=1.0, clip=0.05, eps=1e-7):
    """ASL (Ridnik et al. 2021) as src/ml/losses: probability shifting by clip on negatives, mean over N*K."""
    p = torch.sigmoid(logits)
    p_neg = (p - clip).clamp(min=0)
    pos = y * (1 - p) ** gamma_pos * torch.log(p.clamp(min=eps))
    neg = (1 - y) * p_neg ** gamma_neg * torch.log((1 - p_neg).clamp(min=eps))
    return -(pos + neg).mean()


def main():
    arch, size, batch, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    if os.environ.get("TORCH_THREADS"):
        torch.set_num_threads(int(os.environ["TORCH_THREADS"]))
    torch.manual_seed(1)
    model = {"small-cnn": small_cnn, "resnet18": resnet18, "densenet121": densenet121, "efficientnet-b0": efficientnet_b0}[arch](4)
    recipe = os.environ.get("RECIPE", "")
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x = torch.rand(batch, 1, size, size)
    y = torch.tensor([[1.0 if (i * 4 + k) * 7 % 3 == 0 else 0.0 for k in range(4)] for i in range(batch)])
    loss_fn = nn.BCEWithLogitsLoss()
    if recipe == "vinbig-cls":
        y = y * 0.9 + 0.05  # label smoothing 0.1 (sigmoid targets)
        loss_fn = asymmetric_loss
    beta = torch.distributions.Beta(0.2, 0.2)

    def step():
        opt.zero_grad()
        xb, yb = x, y
        if recipe == "vinbig-cls":  # mixup 0.2, a new pairing and weight each step
            lam, perm = beta.sample().item(), torch.randperm(batch)
            xb, yb = lam * x + (1 - lam) * x[perm], lam * y + (1 - lam) * y[perm]
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss.item()

    model.train()
    step()
    t, c = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    train, train_cpu = steps * batch / (time.perf_counter() - t), steps * batch / (time.process_time() - c)
    model.eval()
    with torch.no_grad():
        torch.sigmoid(model(x))
        t, c = time.perf_counter(), time.process_time()
        for _ in range(steps):
            torch.sigmoid(model(x))
        infer, infer_cpu = steps * batch / (time.perf_counter() - t), steps * batch / (time.process_time() - c)
    print(json.dumps({"tool": f"pytorch-{torch.__version__}-cpu-{torch.get_num_threads()}thr", "arch": arch + (f"+{recipe}" if recipe else ""), "size": size, "batch": batch, "train": round(train, 2), "infer": round(infer, 2), "train_cpu": round(train_cpu, 2), "infer_cpu": round(infer_cpu, 2)}))


if __name__ == "__main__":
    main()
