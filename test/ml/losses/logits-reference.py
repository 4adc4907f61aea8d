"""Reference values for logits.test.ts: PyTorch's BCEWithLogitsLoss and CrossEntropyLoss (probability
targets) in float64 on fixed logits, saturated ones (|z| = 30) included. Run: /usr/bin/python3 test/ml/losses/logits-reference.py"""
import json
import torch

torch.set_default_dtype(torch.float64)


def case(loss_fn, z, y):
    z = torch.tensor(z, requires_grad=True)
    loss = loss_fn(z, torch.tensor(y))
    loss.backward()
    return {"loss": loss.item(), "grad": z.grad.tolist()}


bce_z = [[0.3, -1.2, 30.0], [-30.0, 2.0, 0.0]]
bce_y = [[1.0, 0.0, 0.0], [1.0, 0.3, 0.9]]
bce_w = [0.5, 2.0, 1.25]
ce_z = [[2.0, -1.0, 0.5], [30.0, -30.0, 0.0], [-30.0, 30.0, 0.0]]
ce_y = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.1, 0.2, 0.7]]
ce_w = [1.0, 2.0, 0.5]
print(json.dumps({
    "bce": case(torch.nn.BCEWithLogitsLoss(), bce_z, bce_y),
    "bce_weighted": case(torch.nn.BCEWithLogitsLoss(weight=torch.tensor(bce_w)), bce_z, bce_y),
    "ce": case(torch.nn.CrossEntropyLoss(), ce_z, ce_y),
    "ce_weighted": case(torch.nn.CrossEntropyLoss(weight=torch.tensor(ce_w)), ce_z, ce_y),
}, indent=1))
