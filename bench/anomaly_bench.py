"""What the PyTorch sides of bench/anomaly.sh share: arguments, threads, the images, timing, the JSON line. Import it
before torch: it limits the BLAS and OpenMP pools to TORCH_THREADS before they start (torch.set_num_threads does not
reach the BLAS library's own pool, which ran f-AnoGAN's spectral projection on every core)."""
import json, os, resource, sys, time
threads = os.environ.get('TORCH_THREADS', '1')
for pool in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS'): os.environ[pool] = threads
import numpy as np, torch

size, batch, steps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3] if len(sys.argv) > 3 else 5)
width, bottleneck = float(sys.argv[4]) if len(sys.argv) > 4 else 0.5, int(sys.argv[5]) if len(sys.argv) > 5 else 16
torch.set_num_threads(int(threads))
torch.manual_seed(1)


def filters():
    """The four levels' filters at channel multiplier `width` (src/ml/anomaly/autoencoder.ts levelFilters)."""
    return [max(8, round(n * width)) for n in (32, 64, 128, 128)]


def batches():
    """Batches of `batch` NCHW images from the IMAGES file (bench/anomaly_images.py), cycled; one random batch without it."""
    path = os.environ.get('IMAGES')
    if not path: return [torch.rand(batch, 1, size, size)]
    images = torch.from_numpy(np.fromfile(path, '<f4').reshape(-1, 1, size, size))
    if len(images) < batch: sys.exit(f'{path}: {len(images)} images, fewer than a batch of {batch}')
    return list(images[: len(images) // batch * batch].split(batch))


cpu = lambda: sum(resource.getrusage(resource.RUSAGE_SELF)[:2])


def rate(step, xs, count=steps, warmup=1):
    """Images/s, wall and per CPU second, of `count` calls step(x) over the batches xs (cycled), after `warmup` calls."""
    for i in range(warmup): step(xs[i % len(xs)])
    t, c = time.perf_counter(), cpu()
    for i in range(count): step(xs[(warmup + i) % len(xs)])
    return {'wall': round(count * batch / (time.perf_counter() - t), 1), 'cpu': round(count * batch / (cpu() - c), 1)}


def count(*modules):
    return sum(p.numel() for m in modules for p in m.parameters())


def report(rates, params, **extra):
    print(json.dumps({'engine': f'pytorch {torch.__version__}', 'threads': torch.get_num_threads(), 'size': size, 'batch': batch, 'steps': steps, 'width': width, 'bottleneck': bottleneck, 'images': 'file' if os.environ.get('IMAGES') else 'random', **extra, 'params': params, 'rates': rates}))
