"""Reference values for focal-asl.test.ts, in float64 on fixed logits (z = 0 and |z| = 30 included).
Run: /usr/bin/python3 test/ml/losses/focal-asl-reference.py

- focal: torchvision.ops.sigmoid_focal_loss (hard targets; class weights multiply its per-element terms);
  with soft targets the pipeline's form is linear in y (alpha y (1-p)^g (-log p) + (1-alpha)(1-y) p^g (-log(1-p))),
  which equals torchvision's on 0/1 targets: focal_linear below, from log-sigmoid.
- focal_softmax: -alpha sum_c w_c y_c (1-p_c)^g log p_c with log p = log_softmax(z), mean over the batch.
- asl: Alibaba-MIIL/ASL AsymmetricLoss (focusing weight differentiated, i.e. disable_torch_grad_focal_loss=False),
  averaged over n*c instead of summed; asl_reference clamps p and 1 - p_m at eps = 1e-8 as that code does,
  asl_exact takes log p = log_sigmoid(z) and log(1 - p_m) = log(min(sigmoid(-z) + clip, 1)) unclamped.
"""
import json
import torch
import torch.nn.functional as F
from torchvision.ops import sigmoid_focal_loss

torch.set_default_dtype(torch.float64)


def case(fn, z, y, w=None):
    z = torch.tensor(z, requires_grad=True)
    y = torch.tensor(y)
    w = torch.ones(z.shape[1]) if w is None else torch.tensor(w)
    loss = fn(z, y, w)
    loss.backward()
    return {"loss": loss.item(), "grad": z.grad.tolist()}


def torchvision_focal(alpha, gamma):
    return lambda z, y, w: (sigmoid_focal_loss(z, y, alpha=alpha, gamma=gamma, reduction="none") * w).mean()


def focal_linear(alpha, gamma):
    def fn(z, y, w):
        p, log_p, log_q = torch.sigmoid(z), F.logsigmoid(z), F.logsigmoid(-z)
        per = -alpha * y * (1 - p) ** gamma * log_p - (1 - alpha) * (1 - y) * p ** gamma * log_q
        return (per * w).mean()
    return fn


def focal_softmax(alpha, gamma):
    def fn(z, y, w):
        log_p = F.log_softmax(z, dim=1)
        return (-alpha * w * y * (1 - log_p.exp()) ** gamma * log_p).sum(1).mean()
    return fn


def asl(gamma_neg, gamma_pos, clip, eps=None):
    def fn(z, y, w):
        s = torch.sigmoid(z)
        xs_neg = (1 - s + clip).clamp(max=1) if clip > 0 else 1 - s
        if eps is None:  # exact: log-sigmoid, and 1 - s as sigmoid(-z)
            log_pos = F.logsigmoid(z)
            log_neg = torch.log((torch.sigmoid(-z) + clip).clamp(max=1)) if clip > 0 else F.logsigmoid(-z)
        else:  # the reference code's clamps
            log_pos = torch.log(s.clamp(min=eps))
            log_neg = torch.log(xs_neg.clamp(min=eps))
        loss = y * log_pos + (1 - y) * log_neg
        pt = s * y + xs_neg * (1 - y)
        loss = loss * torch.pow(1 - pt, gamma_pos * y + gamma_neg * (1 - y))
        return -(loss * w).mean()
    return fn


def asl_linear(gamma_neg, gamma_pos, clip):
    """The pipeline's form for soft targets: y (1-p)^gp (-log p) + (1-y) p_m^gn (-log(1-p_m)), p_m = max(p - clip, 0)."""
    def fn(z, y, w):
        s = torch.sigmoid(z)
        m = (s - clip).clamp(min=0)
        log_neg = torch.log((torch.sigmoid(-z) + clip).clamp(max=1)) if clip > 0 else F.logsigmoid(-z)
        per = -y * (1 - s) ** gamma_pos * F.logsigmoid(z) - (1 - y) * m ** gamma_neg * log_neg
        return (per * w).mean()
    return fn


z = [[0.3, -1.2, 30.0, -4.0], [-30.0, 2.0, 0.0, 1.5]]
hard = [[1.0, 0.0, 0.0, 1.0], [1.0, 0.0, 1.0, 0.0]]
soft = [[1.0, 0.0, 0.0, 0.8], [1.0, 0.3, 0.9, 0.05]]
w = [0.5, 2.0, 1.25, 1.0]
# no clamp of the reference code applies: |z| small enough that p and 1 - p_m stay above 1e-8
z_mild = [[0.3, -1.2, 4.0, -4.0], [-2.5, 2.0, 0.0, 1.5]]
ce_z = [[2.0, -1.0, 0.5], [30.0, -30.0, 0.0], [-30.0, 30.0, 0.0]]
ce_y = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.1, 0.2, 0.7]]
ce_w = [1.0, 2.0, 0.5]

out = {
    "focal": case(torchvision_focal(0.25, 2.0), z, hard),
    "focal_weighted": case(torchvision_focal(0.25, 2.0), z, hard, w),
    "focal_a05_g05": case(torchvision_focal(0.5, 0.5), z, hard),
    "focal_soft": case(focal_linear(0.25, 2.0), z, soft),
    "focal_softmax": case(focal_softmax(0.25, 2.0), ce_z, ce_y),
    "focal_softmax_weighted_g05": case(focal_softmax(0.25, 0.5), ce_z, ce_y, ce_w),
    "asl": case(asl(4, 1, 0.05), z, hard),
    "asl_weighted_clip0": case(asl(4, 1, 0.0), z, hard, w),
    "asl_soft": case(asl_linear(4, 1, 0.05), z, soft),
    "asl_reference_mild": case(asl(4, 1, 0.05, eps=1e-8), z_mild, hard),
    "asl_reference_saturated": case(asl(4, 1, 0.05, eps=1e-8), z, hard),
    # a saturated wrong output: the true class at p = sigmoid(-30) (sigmoid) or softmax's e^-60
    "focal_saturated": case(torchvision_focal(0.25, 2.0), [[-30.0, 1.0]], [[1.0, 0.0]]),
    "focal_softmax_saturated": case(focal_softmax(0.25, 2.0), [[30.0, -30.0]], [[0.0, 1.0]]),
    "asl_saturated": case(asl(4, 1, 0.05), [[-30.0, 1.0]], [[1.0, 0.0]]),
    "asl_reference_code_saturated": case(asl(4, 1, 0.05, eps=1e-8), [[-30.0, 1.0]], [[1.0, 0.0]]),
}
# on 0/1 targets the linear form is torchvision's; the exact ASL equals the reference where nothing is clamped
assert abs(case(focal_linear(0.25, 2.0), z, hard)["loss"] - out["focal"]["loss"]) < 1e-12
assert abs(case(asl(4, 1, 0.05), z_mild, hard)["loss"] - out["asl_reference_mild"]["loss"]) < 1e-12
assert abs(case(asl_linear(4, 1, 0.05), z, hard)["loss"] - out["asl"]["loss"]) < 1e-12
print(json.dumps(out))
