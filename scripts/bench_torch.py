#!/usr/bin/env python3
"""PyTorch side of the side-by-side benchmark against `cnnctl bench`.

Builds the same architectures as configs/bench/*.json, checks their parameter counts, and
measures training and inference throughput at a batch size plus batch-1 latency, with the same
method as the Swift benchmark (warm-up, then best of `rounds` timed rounds).

    python3 scripts/bench_torch.py MODEL [--batch 64] [--threads 2] [--iterations 20]
                                         [--rounds 3] [--format json|text]
"""
import argparse
import json
import os
import statistics
import sys
import time
import warnings

MODELS = ["lenet5", "resnet20", "vgg_small", "mbconv_se_small", "gru128", "lstm128", "resnet18", "mobilenet_v2"]

# Expected parameter counts: the models must match the Swift ones exactly, so a count that
# differs means the comparison would be between different networks.
EXPECTED_PARAMS = {
    "lenet5": 61_706,
    "resnet20": 272_474,
    "vgg_small": 2_196_810,
    "mbconv_se_small": 229_322,
    "gru128": 61_962,
    "lstm128": 82_186,
    "resnet18": 11_689_512,
    "mobilenet_v2": 3_504_872,
}
INPUT_SHAPES = {
    "lenet5": (1, 28, 28),
    "resnet20": (3, 32, 32),
    "vgg_small": (3, 32, 32),
    "mbconv_se_small": (3, 32, 32),
    "gru128": (28, 28),  # 28 steps x 28 features, batch_first
    "lstm128": (28, 28),
    "resnet18": (3, 224, 224),
    "mobilenet_v2": (3, 224, 224),
}


def parse_args():
    p = argparse.ArgumentParser(description="PyTorch CPU benchmark matching `cnnctl bench`.")
    p.add_argument("model", choices=MODELS)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--iterations", type=int, default=20)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--format", choices=["json", "text"], default="json")
    args = p.parse_args()
    for name in ("batch", "threads", "iterations", "rounds"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be >= 1")
    return args


args = parse_args()

# The OpenMP/MKL pools are sized when torch loads, so the thread count has to be in the
# environment before the import; set_num_threads below alone would leave MKL's pool at its default.
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(args.threads)

# The venv needs no NumPy (inputs are made by torch), but torch warns at import when it is missing.
warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
try:
    import torch
    from torch import nn
except ImportError:
    print("bench_torch: PyTorch is not importable from this python (" + sys.executable + "); get it with "
          "`python3 -m venv /opt/torch-venv && /opt/torch-venv/bin/pip install torch`, then run "
          "scripts/bench with TORCH_PYTHON=/opt/torch-venv/bin/python", file=sys.stderr)
    sys.exit(3)

torch.set_num_threads(args.threads)
# One inter-op thread: the machine has 2 cores, and a second pool would oversubscribe them.
torch.set_num_interop_threads(1)


# ---- models -------------------------------------------------------------------------------

def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
            nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        # Option B: a projection only where the shape changes, identity elsewhere.
        self.shortcut = nn.Identity() if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        return torch.relu(self.body(x) + self.shortcut(x))


def resnet20():
    layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    cin = 16
    for i, cout in enumerate((16, 32, 64)):
        for j in range(3):
            layers.append(BasicBlock(cin, cout, 2 if i > 0 and j == 0 else 1))
            cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


def vgg_small():
    layers, cin = [], 3
    for cout in (64, 128, 256):
        for _ in range(2):
            layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU()]
            cin = cout
        layers.append(nn.MaxPool2d(2))
    layers += [nn.Flatten(), nn.Linear(256 * 4 * 4, 256), nn.ReLU(), nn.Linear(256, 10)]
    return nn.Sequential(*layers)


def conv_bn(cin, cout, k, stride=1, groups=1, act=True):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers, nn.SiLU()) if act else nn.Sequential(*layers)


class MBConv(nn.Module):
    def __init__(self, cin, cout, expand, k, stride):
        super().__init__()
        hidden = cin * expand
        self.expand = conv_bn(cin, hidden, 1) if expand != 1 else nn.Identity()
        self.depthwise = conv_bn(hidden, hidden, k, stride, groups=hidden)
        # SE width from the block's input channels (torchvision's EfficientNet), not the expanded ones.
        squeeze = max(1, cin // 4)
        self.se = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(hidden, squeeze, 1), nn.SiLU(),
            nn.Conv2d(squeeze, hidden, 1), nn.Sigmoid())
        self.project = conv_bn(hidden, cout, 1, act=False)
        self.skip = stride == 1 and cin == cout

    def forward(self, x):
        y = self.depthwise(self.expand(x))
        y = self.project(y * self.se(y))
        return y + x if self.skip else y


def mbconv_se_small():
    layers, cin = [conv_bn(3, 32, 3)], 32
    for expand, k, stride, cout, repeats in ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 2)):
        for j in range(repeats):
            layers.append(MBConv(cin, cout, expand, k, stride if j == 0 else 1))
            cin = cout
    layers += [conv_bn(cin, 256, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(256, 10)]
    return nn.Sequential(*layers)


class Recurrent(nn.Module):
    """One recurrent layer over 28 steps x 28 features; the last step's hidden state -> fc 10."""

    def __init__(self, cell):
        super().__init__()
        self.rnn = cell(28, 128, batch_first=True)
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out[:, -1])


BUILDERS = {
    "lenet5": lenet5, "resnet20": resnet20, "vgg_small": vgg_small, "mbconv_se_small": mbconv_se_small,
    "gru128": lambda: Recurrent(nn.GRU), "lstm128": lambda: Recurrent(nn.LSTM),
    # The ImageNet models are torchvision's own (configs/models/ reproduces them exactly).
    "resnet18": lambda: torchvision_model("resnet18"),
    "mobilenet_v2": lambda: torchvision_model("mobilenet_v2"),
}


def torchvision_model(name):
    import torchvision
    return getattr(torchvision.models, name)()


# ---- measurement --------------------------------------------------------------------------

def best_round(step, warmup, rounds, iterations):
    """Seconds of the fastest of `rounds` rounds of `iterations` calls, after `warmup` calls.
    The best, not the mean: on a shared machine noise only ever slows a round down."""
    for _ in range(warmup):
        step()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(iterations):
            step()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    torch.manual_seed(0)
    model = BUILDERS[args.model]()
    params = sum(p.numel() for p in model.parameters())
    assert params == EXPECTED_PARAMS[args.model], \
        f"{args.model}: {params} parameters, expected {EXPECTED_PARAMS[args.model]}"

    shape = INPUT_SHAPES[args.model]
    x = torch.randn(args.batch, *shape)
    y = torch.randint(0, 10, (args.batch,))
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    warmup = max(3, args.iterations // 5)

    def train_step():
        loss = loss_fn(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    model.train()
    train_s = best_round(train_step, warmup, args.rounds, args.iterations)

    model.eval()
    with torch.inference_mode():
        infer_s = best_round(lambda: model(x), warmup, args.rounds, args.iterations)

        x1 = torch.randn(1, *shape)
        for _ in range(10):
            model(x1)
        times = []
        for _ in range(max(50, 5 * args.iterations)):
            start = time.perf_counter()
            model(x1)
            times.append((time.perf_counter() - start) * 1000.0)
    times.sort()
    # Nearest-rank 90th percentile: the smallest sample with at least 90% of samples at or below it.
    p90 = times[max(0, -(-9 * len(times) // 10) - 1)]

    result = {
        "framework": "pytorch",
        "version": torch.__version__,
        "model": args.model,
        "batch": args.batch,
        "threads": args.threads,
        "parameters": params,
        "train_images_per_second": args.batch * args.iterations / train_s,
        "infer_images_per_second": args.batch * args.iterations / infer_s,
        "latency_ms_b1": {"median": statistics.median(times), "p90": p90},
        "mkldnn": torch.backends.mkldnn.is_available(),
        "mkl": torch.backends.mkl.is_available(),
    }
    if args.format == "json":
        print(json.dumps(result))
    else:
        lat = result["latency_ms_b1"]
        rows = [
            ("model", f"{args.model} ({params:,} parameters)"),
            ("framework", f"pytorch {torch.__version__} (mkldnn {result['mkldnn']}, mkl {result['mkl']})"),
            ("setup", f"batch {args.batch}, {args.threads} threads, best of {args.rounds} x {args.iterations}"),
            ("train", f"{result['train_images_per_second']:.1f} images/s"),
            ("inference", f"{result['infer_images_per_second']:.1f} images/s"),
            ("latency b1", f"median {lat['median']:.3f} ms, p90 {lat['p90']:.3f} ms"),
        ]
        for label, value in rows:
            print(f"{label + ':':<12} {value}")


if __name__ == "__main__":
    main()
