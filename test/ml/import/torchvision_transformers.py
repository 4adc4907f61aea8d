"""torchvision transformers for the zoo's tests.

Usage: /usr/bin/python3 torchvision_transformers.py OUT_DIR
Prints the parameter counts of torchvision's VisionTransformer at the zoo's vit-tiny / vit-small sizes
(64 px, patch 16, 1000 classes) and of swin_t as JSON. Writes, for a small ViT (32 px, patch 8, 2 blocks
of 48 dims, 3 heads) and a small Swin (36 px, patch 4, embed 24, depths [2, 2], heads [2, 4], window 4:
padding, shifted windows with masks, odd-size patch merging) with all parameters randomised:
NAME.params.bin (every named parameter, float32, in order), NAME.params.json (names and shapes),
NAME.input.bin (NCHW [2, 3, S, S]) and NAME.logits.bin.
"""
import json
import sys
import torch
from torchvision.models import swin_t
from torchvision.models.swin_transformer import SwinTransformer
from torchvision.models.vision_transformer import VisionTransformer

out = sys.argv[1]
count = lambda m: sum(p.numel() for p in m.parameters())
counts = {f'vit-{n}': count(VisionTransformer(image_size=64, patch_size=16, num_layers=12, num_heads=h, hidden_dim=d, mlp_dim=4 * d, num_classes=1000))
          for n, d, h in [('tiny', 192, 3), ('small', 384, 6)]}
counts['swin-tiny'] = count(swin_t(num_classes=1000))
print(json.dumps(counts))

torch.manual_seed(0)
small = {
    'vit': (VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=3, hidden_dim=48, mlp_dim=192, num_classes=5), 32),
    'swin': (SwinTransformer(patch_size=[4, 4], embed_dim=24, depths=[2, 2], num_heads=[2, 4], window_size=[4, 4], num_classes=5), 36),
}
for name, (model, size) in small.items():
    model.eval()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn_like(p) * 0.2)
    x = torch.rand(2, 3, size, size)
    with torch.no_grad():
        logits = model(x)
    params = list(model.named_parameters())
    json.dump([[n, list(p.shape)] for n, p in params], open(f'{out}/{name}.params.json', 'w'))
    torch.cat([p.detach().flatten() for _, p in params]).numpy().astype('float32').tofile(f'{out}/{name}.params.bin')
    x.numpy().astype('float32').tofile(f'{out}/{name}.input.bin')
    logits.numpy().astype('float32').tofile(f'{out}/{name}.logits.bin')
