"""torchvision FCOS (ResNet-18 + FPN, from scratch) on BCCD: the reference side of bench/detection.sh.

Same data (the dataset's train.txt / val.txt), input size (images resized with their aspect kept so the long
side is SIZE, as our letterbox), batch, epochs, optimizer (Adam, same lr) and threads as bench/detection.ts.
FPN and head sized like ours: 64 channels, 2 convs per head tower. Random horizontal flips (torchvision's
detection references' default augmentation). Prints one JSON line: train img/s, inference img/s and the
val predictions in original pixels (the TS side computes both mAPs with the same function).
The learning rate follows the same per-epoch schedule as ours (SCHEDULE=cosine: the pipeline's cosine with one
warmup epoch, src/ml/training/schedule.ts; constant otherwise).
usage: detection.py BCCD_DIR SIZE EPOCHS BATCH LR THREADS OUT.json [SCHEDULE=cosine] [SEED=1]
"""
import json, math, os, sys, time, random
import xml.etree.ElementTree as ET
import numpy as np
import torch, torchvision
from torch import nn
from PIL import Image
from torchvision.models.detection import FCOS
from torchvision.models.detection.fcos import FCOSHead
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.ops.feature_pyramid_network import LastLevelP6P7

root, size, epochs, batch, lr, threads, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
schedule = sys.argv[8] if len(sys.argv) > 8 else 'cosine'

def epoch_lr(epoch):
    """The pipeline's learningRate() for epoch 1..epochs: cosine to 0 after one linear warmup epoch."""
    if schedule != 'cosine': return lr
    if epoch <= 1: return lr * epoch / 2
    t = min(1, (epoch - 2) / max(1, epochs - 1))
    return 0.5 * lr * (1 + math.cos(math.pi * t))
torch.set_num_threads(threads)
seed = int(sys.argv[9]) if len(sys.argv) > 9 else 1
torch.manual_seed(seed)
random.seed(seed)
CLASSES = ['Platelets', 'RBC', 'WBC']

def load(split):
    items = []
    for image_id in open(f'{root}/ImageSets/Main/{split}.txt').read().split():
        tree = ET.parse(f'{root}/Annotations/{image_id}.xml')
        boxes, labels = [], []
        for o in tree.findall('object'):
            b = o.find('bndbox')
            x0, y0, x1, y1 = (float(b.find(k).text) for k in ('xmin', 'ymin', 'xmax', 'ymax'))
            if x1 <= x0 or y1 <= y0: continue  # the two degenerate boxes
            boxes.append([x0 - 1, y0 - 1, x1, y1])  # VOC 1-based inclusive -> continuous edges, as our reader
            labels.append(CLASSES.index(o.find('name').text) + 1)
        img = torch.from_numpy(np.asarray(Image.open(f'{root}/JPEGImages/{image_id}.jpg').convert('RGB'), dtype=np.float32) / 255).permute(2, 0, 1).contiguous()
        items.append((image_id, img, torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4), torch.tensor(labels, dtype=torch.int64)))
    return items

train, val = load('train'), load('val')
backbone = torchvision.models.resnet18(weights=None, norm_layer=nn.BatchNorm2d)
fpn = BackboneWithFPN(backbone, {'layer2': '0', 'layer3': '1', 'layer4': '2'}, [128, 256, 512], 64, extra_blocks=LastLevelP6P7(64, 64))
model = FCOS(fpn, num_classes=len(CLASSES) + 1, min_size=size, max_size=size, head=FCOSHead(64, 1, len(CLASSES) + 1, num_convs=2), score_thresh=0.05, nms_thresh=0.6, detections_per_img=100)
optimizer = torch.optim.Adam(model.parameters(), lr=lr)

model.train()
started = time.time()
for epoch in range(epochs):
    for group in optimizer.param_groups: group['lr'] = epoch_lr(epoch + 1)
    order = list(range(len(train)))
    random.shuffle(order)
    for i in range(0, len(order), batch):
        images, targets = [], []
        for k in order[i:i + batch]:
            _, img, boxes, labels = train[k]
            if random.random() < 0.5:
                img = img.flip(-1)
                boxes = boxes[:, [2, 1, 0, 3]] * torch.tensor([-1, 1, -1, 1]) + torch.tensor([img.shape[-1], 0, img.shape[-1], 0])
            images.append(img)
            targets.append({'boxes': boxes, 'labels': labels})
        losses = model(images, targets)
        loss = sum(losses.values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f'torchvision epoch {epoch + 1}: lr {epoch_lr(epoch + 1):.6f} loss {loss.item():.4f} ({time.time() - started:.0f} s)', file=sys.stderr, flush=True)
train_seconds = time.time() - started

# Both sides train at the same time; inference starts when both have trained, so neither side's inference
# shares the machine with the other's training (bench/detection.ts waits the same way).
barrier = out[:-4] if out.endswith('.tmp') else out
open(barrier + '.torch-trained', 'w').close()
waited = time.time()
while not os.path.exists(barrier + '.ours-trained') and time.time() - waited < 7200: time.sleep(2)

model.eval()
infer_seconds = infer_cpu_seconds = float('inf')
for _ in range(3):  # the fastest of three passes over the val images (a short measurement on a shared machine)
    predictions = {}
    started, cpu = time.time(), time.process_time()
    with torch.no_grad():
        for i in range(0, len(val), 8):
            chunk = val[i:i + 8]
            outputs = model([c[1] for c in chunk])
            for (image_id, *_), o in zip(chunk, outputs):
                predictions[image_id] = [{'label': CLASSES[int(l) - 1], 'x_min': float(b[0]), 'y_min': float(b[1]), 'x_max': float(b[2]), 'y_max': float(b[3]), 'score': float(s)} for b, l, s in zip(o['boxes'], o['labels'], o['scores'])]
    infer_seconds = min(infer_seconds, time.time() - started)
    infer_cpu_seconds = min(infer_cpu_seconds, time.process_time() - cpu)
json.dump({'train_img_s': len(train) * epochs / train_seconds, 'infer_img_s': len(val) / infer_seconds, 'infer_img_cpu_s': len(val) / infer_cpu_seconds, 'params': sum(p.numel() for p in model.parameters()), 'predictions': predictions}, open(out, 'w'))
print(json.dumps({'train_img_s': len(train) * epochs / train_seconds, 'infer_img_s': len(val) / infer_seconds, 'infer_img_cpu_s': len(val) / infer_cpu_seconds}))
