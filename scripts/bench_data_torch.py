#!/usr/bin/env python3
"""PyTorch side of the side-by-side input-pipeline benchmark.

Reads a cnnctl config whose data are image folders (e.g. made by scripts/make-image-folder),
builds the same transforms with torchvision, and measures the images per second of
ImageFolder + DataLoader alone (decode, transforms, collation; no model):

    python3 scripts/bench_data_torch.py CONFIG.json [--split train|eval] [--workers 2]
                                                    [--batch 64] [--batches 0] [--format json|text]

`--split train` reads data.train with data.transforms.train (shuffled); `--split eval` reads
data.test (or data.train if there is none) with data.transforms.eval. `--workers 0` loads in the
main process. The iterator is started and a few batches are taken as warm-up, so worker start-up
is not timed; then the rest of the epoch (or `--batches N` batches when N > 0) is timed.
"""
import argparse
import json
import os
import platform
import re
import sys
import time

IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
WARMUP_BATCHES = 5
# The steps of a transform list and the options each takes besides its own value.
STEPS = {"resize": {"interpolation"}, "center_crop": set(), "random_crop": {"padding"},
         "random_resized_crop": {"scale", "ratio", "interpolation"}, "horizontal_flip": set(),
         "color_jitter": {"brightness", "contrast", "saturation"}, "normalize": set()}


def fail(message, code=2):
    print(f"bench_data_torch: {message}", file=sys.stderr)
    sys.exit(code)


def read_config(path):
    """The config as Python objects. cnnctl's reader (json-c) also accepts // and /* */ comments
    and trailing commas, so those are removed (outside strings) before json.loads."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        fail(f"cannot read {path}: {e.strerror}")
    token = re.compile(r'"(?:[^"\\]|\\.)*"|//[^\n]*|/\*.*?\*/|,(?=\s*[\]}])', re.S)
    text = token.sub(lambda m: m.group(0) if m.group(0).startswith('"') else "", text)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        fail(f"{path}: {e}")


def positive(value, kind=(int, float)):
    return isinstance(value, kind) and not isinstance(value, bool) and value > 0


def size_of(value, where):
    """An edge length N or [h, w], as torchvision takes it."""
    if positive(value, int):
        return value
    if isinstance(value, list) and len(value) == 2 and all(positive(v, int) for v in value):
        return tuple(value)
    fail(f"{where}: expected a size N or [h, w], got {json.dumps(value)}")


def range_of(value, where):
    """A (min, max) pair of positive numbers, as RandomResizedCrop's scale and ratio."""
    if isinstance(value, list) and len(value) == 2 and all(map(positive, value)) \
            and value[0] <= value[1]:
        return tuple(value)
    fail(f"{where}: expected [min, max] with 0 < min <= max, got {json.dumps(value)}")


def step_ops(T, name, value, options, channels, here):
    """The torchvision transforms of one step (options checked against STEPS already)."""
    modes = {"bilinear": T.InterpolationMode.BILINEAR, "bicubic": T.InterpolationMode.BICUBIC}
    mode = options.get("interpolation", "bilinear")
    if mode not in modes:
        fail(f"{here}: interpolation must be bilinear or bicubic")
    if name == "resize":
        return [T.Resize(size_of(value, here), modes[mode], antialias=True)]
    if name == "center_crop":
        return [T.CenterCrop(size_of(value, here))]
    if name == "random_resized_crop":
        return [T.RandomResizedCrop(size_of(value, here), interpolation=modes[mode], antialias=True,
                                    scale=range_of(options.get("scale", [0.08, 1.0]), here),
                                    ratio=range_of(options.get("ratio", [3 / 4, 4 / 3]), here))]
    if name == "random_crop":
        return [T.RandomCrop(size_of(value, here), padding=options.get("padding"))]
    if name == "horizontal_flip":
        p = 0.5 if value is True else value
        if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0 <= p <= 1:
            fail(f"{here}: horizontal_flip takes a probability 0...1 or true (0.5)")
        return [T.RandomHorizontalFlip(p)]
    if name == "color_jitter":
        # {"color_jitter": {"brightness": b, ...}}, {"color_jitter": true, "brightness": b, ...},
        # or {"color_jitter": x, ...}: x for the three, the option keys overriding it.
        if isinstance(value, dict):
            for key in value.keys() - STEPS[name]:
                fail(f"{here}: unknown option '{key}' for color_jitter")
            options, value = value, 0
        elif value is True:
            value = 0
        elif not isinstance(value, (int, float)) or isinstance(value, bool):
            fail(f"{here}: color_jitter takes a number, true or an object of the amounts")
        return [T.ColorJitter(**{k: options.get(k, value) for k in sorted(STEPS[name])})]
    # normalize. The statistics do not change the speed, so "auto" (computed by cnnctl from the
    # training images) is stood in for by 0.5 / 0.5, and ImageNet's for 1 channel by their means.
    if value == "imagenet":
        mean, std = IMAGENET_MEAN, IMAGENET_STD
        if channels == 1:
            mean, std = [sum(mean) / 3], [sum(std) / 3]
    elif value == "auto":
        mean, std = [0.5] * channels, [0.5] * channels
    elif isinstance(value, dict) and set(value) == {"mean", "std"}:
        mean, std = value["mean"], value["std"]
    else:
        fail(f'{here}: normalize takes "imagenet", "auto" or {{"mean": [...], "std": [...]}}')
    return [T.ToTensor(), T.Normalize(mean, std)]


def build_transforms(steps, channels, where):
    """torchvision.transforms.Compose of a cnnctl transform list."""
    import torchvision.transforms as T
    ops = [T.Grayscale(1)] if channels == 1 else []  # after the loader's RGB, as convert("L")
    if not isinstance(steps, list):
        fail(f"{where}: expected a list of steps")
    names = []
    for i, step in enumerate(steps):
        here = f"{where}[{i}]"
        if not isinstance(step, dict):
            fail(f"{here}: a step is an object such as {{\"center_crop\": 28}}")
        keys = [key for key in step if key in STEPS]  # the step's name; the other keys: options
        if len(keys) != 1:
            what = (f"names {len(keys)} steps" if keys else
                    f"unknown step '{next(iter(step))}'" if step else "an empty step")
            fail(f"{here}: {what}; a step is one of {', '.join(STEPS)}")
        if "normalize" in names:
            fail(f"{where}[{i - 1}]: normalize must be the last step (it acts on the tensor)")
        name = keys[0]
        names.append(name)
        options = {k: v for k, v in step.items() if k != name}
        for key in options.keys() - STEPS[name]:
            fail(f"{here}: unknown option '{key}' for {name}")
        try:
            ops += step_ops(T, name, step[name], options, channels, here)
        except (TypeError, ValueError) as e:  # torchvision's own checks of the arguments
            fail(f"{here}: {e}")
    if "normalize" not in names:
        ops.append(T.ToTensor())
    return T.Compose(ops)


def dataset_for(config, config_path, split):
    """torchvision ImageFolder of the split, with its transforms."""
    from torchvision.datasets import ImageFolder
    data = config.get("data") if isinstance(config, dict) else None
    if not isinstance(data, dict):
        fail("the config has no data section")
    key = "train" if split == "train" else ("test" if "test" in data else "train")
    source = data.get(key)
    if not isinstance(source, dict) or source.get("type") != "image_folder":
        kind = source.get("type") if isinstance(source, dict) else source
        fail(f"data.{key} is {json.dumps(kind)}, not an image_folder source")
    if not isinstance(source.get("root"), str):
        fail(f"data.{key}: an image_folder needs a root")
    channels = source.get("channels", 3)
    if channels not in (1, 3):
        fail(f"data.{key}: channels must be 1 or 3")
    root = os.path.join(os.path.dirname(os.path.abspath(config_path)), source["root"])
    if not os.path.isdir(root):
        fail(f"data.{key}: {root} is not a folder")
    transforms = data.get("transforms", {})
    steps = transforms.get(split, []) if isinstance(transforms, dict) else None
    transform = build_transforms(steps, channels, f"data.transforms.{split}")
    try:
        return ImageFolder(root, transform=transform)
    except OSError as e:  # no class folders, or a class without images
        fail(f"data.{key}: {e}")


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            models = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
    except OSError:
        models = []
    return models[0] if models else platform.processor() or "unknown"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("config", metavar="CONFIG.json")
    p.add_argument("--split", choices=["train", "eval"], default="train")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--batches", type=int, default=0, help="batches to time; 0: the whole epoch")
    p.add_argument("--format", choices=["json", "text"], default="json")
    args = p.parse_args()
    if args.workers < 0 or args.batch < 1 or args.batches < 0:
        fail("--workers and --batches must be >= 0, --batch >= 1")

    try:
        import PIL
        import torch
        import torchvision
        from torch.utils.data import DataLoader
    except ImportError as e:
        fail(f"{e.name} is not importable from {sys.executable}; run this with the python of a "
             "venv that has torch and torchvision (e.g. /opt/torch-venv/bin/python)", 3)

    dataset = dataset_for(read_config(args.config), args.config, args.split)
    # DataLoader workers run with torch.set_num_threads(1) already; the rest stays default.
    loader = DataLoader(dataset, batch_size=args.batch, shuffle=(args.split == "train"),
                        num_workers=args.workers, drop_last=False)
    total = len(loader)
    if total < 2:
        fail(f"{len(dataset)} images make {total} batch(es) of {args.batch}: too few to time")
    warmup = min(WARMUP_BATCHES, total - 1)  # leaves at least one batch to time
    batches = iter(loader)  # starts the workers: not timed, nor are the warm-up batches
    for _ in range(warmup):
        next(batches)
    # With workers, batches prefetched during the warm-up (2 per worker) count in the timing
    # below; over an epoch of hundreds of batches that is a small head start.
    images, timed = 0, 0
    start = time.perf_counter()
    for inputs, _ in batches:
        images += inputs.shape[0]
        timed += 1
        if timed == args.batches:
            break
    seconds = time.perf_counter() - start
    del batches  # stops the workers

    result = {"split": args.split, "workers": args.workers, "batch": args.batch,
              "images": images, "seconds": round(seconds, 4),
              "images_per_second": round(images / seconds, 1),
              "torch": torch.__version__, "torchvision": torchvision.__version__,
              "pillow": PIL.__version__, "cpu": cpu_model()}
    if args.format == "json":
        print(json.dumps(result))
    else:
        print(f"torchvision ImageFolder {args.split}: {result['images_per_second']:.0f} images/s "
              f"({images} images in {seconds:.2f} s, batch {args.batch}, workers {args.workers}; "
              f"torch {torch.__version__}, Pillow {PIL.__version__})")


if __name__ == "__main__":
    main()
