"""Reference timing: the same VGG11-BN training step in PyTorch (CPU), for bench/train-speed.ts.

Same model as the workbench's: the cfg comes from the workbench's one VGG table (src/shared/vgg.ts, passed
as --cfg JSON), with BN; classifier 512w -> 4096w -> 4096w -> 10 with dropout; batch 64 of 32x32x3, SGD
momentum 0.9, weight decay 5e-4.
"""
import argparse
import json
import time

import torch
import torch.nn as nn

def vgg_bn(cfg: list, width: float, classes: int) -> nn.Module:
    layers, channels = [], 3
    for entry in cfg:
        if entry == 'M':
            layers.append(nn.MaxPool2d(2, 2))
            continue
        out = max(1, round(entry * width))
        layers += [nn.Conv2d(channels, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU(inplace=True)]
        channels = out
    fc = max(1, round(4096 * width))
    return nn.Sequential(*layers, nn.Flatten(),
                         nn.Linear(channels, fc), nn.ReLU(inplace=True), nn.Dropout(),
                         nn.Linear(fc, fc), nn.ReLU(inplace=True), nn.Dropout(),
                         nn.Linear(fc, classes))


def measure(step, batch: int, min_seconds: float, warmup_seconds: float) -> float:
    """As the workbench's bench: untimed steps for at least warmup_seconds (at least two), then timed ones."""
    start = time.perf_counter()
    for _ in range(2):
        step()
    while time.perf_counter() - start < warmup_seconds:
        step()
    steps, start = 0, time.perf_counter()
    while steps < 2 or time.perf_counter() - start < min_seconds:
        step()
        steps += 1
    return steps * batch / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg', required=True, help='the VGG cfg as JSON, from src/shared/vgg.ts')
    parser.add_argument('--json', action='store_true')
    parser.add_argument('--widths', default='1,0.25')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--min-seconds', type=float, default=8)
    parser.add_argument('--warmup-seconds', type=float, default=None, help='untimed steps first, for at least this long (default: --min-seconds)')
    parser.add_argument('--threads', type=int, default=0, help='torch.set_num_threads (default: leave torch\'s own choice)')
    args = parser.parse_args()
    warmup = args.min_seconds if args.warmup_seconds is None else args.warmup_seconds
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    results = []
    for width in [float(w) for w in args.widths.split(',')]:
        model = vgg_bn(json.loads(args.cfg), width, 10)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        x = torch.randn(args.batch_size, 3, 32, 32)
        y = torch.arange(args.batch_size) % 10
        loss_fn = nn.CrossEntropyLoss()

        def train_step():
            model.train()
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()

        def infer_step():
            model.eval()
            with torch.no_grad():
                model(x)

        results.append({'arch': 'vgg11_bn', 'width': width,
                        'trainImagesPerSecond': round(measure(train_step, args.batch_size, args.min_seconds, warmup), 1),
                        'inferImagesPerSecond': round(measure(infer_step, args.batch_size, args.min_seconds, warmup), 1)})
    report = {'backend': 'pytorch', 'threads': torch.get_num_threads(), 'batchSize': args.batch_size, 'results': results}
    print(json.dumps(report, indent=2) if args.json else report)


if __name__ == '__main__':
    main()
