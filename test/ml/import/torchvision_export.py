"""Exports torchvision or timm models with random weights to ONNX, with their outputs for a fixed input.

Usage: /usr/bin/python3 torchvision_export.py OUT_DIR SIZE NAME[:CLASSES[:unfused]] ...
NAME is a torchvision model function (resnet18), vit_tiny (torchvision's VisionTransformer at DeiT-tiny
sizes for SIZE px, patch 16) or `timm.` and a timm model name (timm.resnet18,
built with pretrained=False, and ViT/Swin with img_size=SIZE; timm must be importable, e.g. through PYTHONPATH).
Per model, in OUT_DIR: NAME.onnx, NAME.input.bin (float32 NCHW [2, 3, SIZE, SIZE]), NAME.logits.bin
([2, CLASSES]), NAME.features.bin (the pooled features fed to the classifier), NAME.grey.bin (a grey
image [2, 1, SIZE, SIZE]) and NAME.grey_logits.bin (the model's output for it replicated to RGB).
Batch-norm affine parameters (and layer norms', class tokens', position embeddings') are randomised and
batch-norm statistics measured on random images, then perturbed, so that folding and mapping errors show.
`unfused` exports with training=PRESERVE and no constant folding, which keeps the BatchNormalization
nodes (the default export folds them into the convolutions).
`patchN` (timm ViTs) builds the model with patch_size=N. `atN`: also the reference for the model moved
to N px the way its library does it (at_size below): NAME.atN.input.bin ([2, 3, N, N]), NAME.atN.logits.bin
and, for ViTs, NAME.atN.pos.bin (the resampled position embedding, [1, 1 + g^2, D]).
"""
import sys
import torch
import torchvision


def build(name, classes, size, flags):
    if name.startswith('timm.'):
        import timm
        # transformers are built for the test's image size (their position embeddings depend on it)
        sized = {'img_size': size} if name.startswith(('timm.vit_', 'timm.swin_')) else {}
        sized.update({'patch_size': int(f[5:]) for f in flags if f.startswith('patch')})
        model = timm.create_model(name[len('timm.'):], pretrained=False, num_classes=classes, **sized)
        return model, model.get_classifier()
    if name == 'vit_tiny':  # torchvision has no constructor at DeiT-tiny size (the zoo's vit-tiny)
        from torchvision.models.vision_transformer import VisionTransformer
        model = VisionTransformer(image_size=size, patch_size=16, num_layers=12, num_heads=3, hidden_dim=192, mlp_dim=768, num_classes=classes)
    else:
        model = getattr(torchvision.models, name)(num_classes=classes)
    return model, next(getattr(model, a) for a in ('fc', 'head', 'heads', 'classifier') if hasattr(model, a))


def at_size(name, model, classes, at):
    """The model moved to `at` px the way its library does it, and the resampled position embedding (ViTs)."""
    if name == 'swin_t':  # torchvision's Swin takes any size as it is (windows padded)
        return model, None
    if name == 'vit_tiny':  # torchvision: a model built at the new size, its state dict through interpolate_embeddings
        from torchvision.models.vision_transformer import VisionTransformer, interpolate_embeddings
        moved = VisionTransformer(image_size=at, patch_size=16, num_layers=12, num_heads=3, hidden_dim=192, mlp_dim=768, num_classes=classes).eval()
        moved.load_state_dict(interpolate_embeddings(at, 16, model.state_dict()))
        return moved, moved.encoder.pos_embedding
    import timm
    moved = timm.create_model(name[len('timm.'):], pretrained=False, num_classes=classes, img_size=at).eval()
    if name.startswith('timm.swin_'):
        from timm.models.swin_transformer import checkpoint_filter_fn
        moved.load_state_dict(checkpoint_filter_fn(model.state_dict(), moved))
        return moved, None
    from timm.layers import resample_abs_pos_embed
    from timm.models.vision_transformer import checkpoint_filter_fn
    moved.load_state_dict(checkpoint_filter_fn(model.state_dict(), moved))
    pos = resample_abs_pos_embed(model.pos_embed.detach(), new_size=list(moved.patch_embed.grid_size), num_prefix_tokens=1)
    assert torch.equal(pos, moved.pos_embed.detach()), 'checkpoint_filter_fn and resample_abs_pos_embed differ'
    return moved, pos


out, size, specs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
torch.manual_seed(0)
for spec in specs:
    name, classes, *flags = spec.split(':') if ':' in spec else [spec, '5']
    model, head = build(name, int(classes), size, flags)
    model.eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.3, 0.8)
                m.bias.uniform_(-0.2, 0.2)
            if isinstance(m, torch.nn.Linear) and m.bias is not None:
                m.bias.uniform_(-0.2, 0.2)
            if isinstance(m, torch.nn.Linear) and not m.weight.any():  # torchvision's ViT head starts at zero
                m.weight.normal_(0, 0.05)
            if isinstance(m, torch.nn.LayerNorm) and m.elementwise_affine:
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
        for p in model.parameters():
            if p.dim() == 3:  # a transformer's class token and position embedding
                p.normal_(0, 0.2)
        # Batch-norm statistics from a batch of random images, then perturbed: with arbitrary statistics
        # the signal of a deep random network dies out (EfficientNet's and MobileNet's outputs stopped
        # depending on the input), and a mapping error deep in the network would not show.
        bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        for m in bns:
            m.momentum = 1.0
        model.train()
        model(torch.rand(16, 3, size, size))
        model.eval()
        for m in bns:
            # nearly dead channels (tiny variance) would amplify float32 rounding without bound
            m.running_var.clamp_(min=0.1 * float(m.running_var.median()))
            m.running_mean.add_(torch.empty_like(m.running_mean).uniform_(-0.1, 0.1) * m.running_var.sqrt())
            m.running_var.mul_(torch.empty_like(m.running_var).uniform_(1.3, 1.7))
    x = torch.rand(2, 3, size, size)
    grey = torch.rand(2, 1, size, size)
    features = []
    head.register_forward_hook(lambda module, inputs, output: features.append(torch.flatten(inputs[0], 1)))
    with torch.no_grad():
        logits = model(x)
        grey_logits = model(grey.expand(-1, 3, -1, -1))
    torch.onnx.export(model, x, f'{out}/{name}.onnx', opset_version=17, input_names=['image'], output_names=['logits'],
                      dynamic_axes={'image': {0: 'n'}}, do_constant_folding='unfused' not in flags,
                      training=torch.onnx.TrainingMode.PRESERVE if 'unfused' in flags else torch.onnx.TrainingMode.EVAL)
    for suffix, t in [('input', x), ('logits', logits), ('features', features[0]), ('grey', grey), ('grey_logits', grey_logits)]:
        t.detach().contiguous().numpy().astype('float32').tofile(f'{out}/{name}.{suffix}.bin')
    for at in [int(f[2:]) for f in flags if f.startswith('at')]:
        moved, pos = at_size(name, model, int(classes), at)
        x = torch.rand(2, 3, at, at)
        with torch.no_grad():
            logits = moved(x)
        for suffix, t in [('pos', pos), ('input', x), ('logits', logits)]:
            if t is not None:
                t.detach().contiguous().numpy().astype('float32').tofile(f'{out}/{name}.at{at}.{suffix}.bin')
