"""PyTorch twins of ser-webgpu's models (src/models/*.ts), with exactly the same
parameter and buffer names, so a checkpoint written by `ser train` loads with

    model = build_model("cnn5")
    model.load_state_dict(load_checkpoint("model.safetensors"))

and a PyTorch state_dict saved as safetensors loads into ser-webgpu. Input is
[N, 1, 373, 64] (time x Mel band), 4 classes. Pure PyTorch (no torchvision).

A checkpoint of the `paper` recipe holds the per-Mel-band standardisation as two buffers,
`input_norm.mean` and `input_norm.std` ([64]), applied before the first layer: build the
model with standardize=True (or use model_for_checkpoint) and feed it the raw ln-Mel
features, as ser-webgpu does. `db` checkpoints (and all from before recipes) have none.

    python3 tools/pytorch_models.py                      # parameter counts
    python3 tools/pytorch_models.py --check cnn5 model.safetensors
    python3 tools/pytorch_models.py --save-random small 7 plain.safetensors   # a plain state_dict
    python3 tools/pytorch_models.py --probs cnn5 model.safetensors X.npy   # softmax of X [N,1,T,64] as JSON

A plain state_dict (save_checkpoint below, or safetensors.torch.save_file) has no metadata:
ser-webgpu loads it with `--model NAME` (ser predict/eval/attack).
"""

import json
import struct
import sys

import torch
from torch import nn

CNN5_CHANNELS = [32, 64, 128, 256, 256]
SMALL_CNN_BLOCKS = [(8, 4), (16, 2), (32, 2)]
VGG16_CONFIG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
RESNET50_STAGES = [3, 4, 6, 3]


def init_weights(model: nn.Module) -> nn.Module:
    """The project's init: Kaiming-normal (fan_in, ReLU) convolutions, batchnorm 1/0,
    linear layers (and conv biases) left at PyTorch's default U(-1/sqrt(fan_in), +)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    return model


class InputNorm(nn.Module):
    """(x - mean) / std per Mel band (the last axis); buffers `mean` and `std`, fitted by
    ser-webgpu on the training fold (std already floored there), never trained."""

    def __init__(self, bands: int = 64):
        super().__init__()
        self.register_buffer("mean", torch.zeros(bands))
        self.register_buffer("std", torch.ones(bands))

    def forward(self, x):
        return (x - self.mean) / self.std


class CNN5(nn.Module):
    """Five blocks of conv 3x3 (pad 1, no bias) -> BN -> ReLU -> max-pool 2; global
    average pool; dropout 0.3; fc 256 -> classes. Names: features.{0,1,4,5,...}, fc."""

    def __init__(self, classes: int = 4, in_channels: int = 1):
        super().__init__()
        layers = []
        c = in_channels
        for out in CNN5_CHANNELS:
            layers += [nn.Conv2d(c, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            c = out
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(0.3)
        self.fc = nn.Linear(c, classes)
        self.input_norm = nn.Identity()
        init_weights(self)

    def forward(self, x):
        return self.fc(self.dropout(self.features(self.input_norm(x)).mean(dim=(2, 3))))


class SmallCNN(nn.Module):
    """src/models/small-cnn.ts: three blocks of conv 3x3 (pad 1, no bias) -> BN -> ReLU ->
    max-pool (4, 2, 2) with 8, 16, 32 channels; global average pool; fc 32 -> classes.
    Names: features.{0,1,4,5,8,9}, fc."""

    def __init__(self, classes: int = 4, in_channels: int = 1):
        super().__init__()
        layers = []
        c = in_channels
        for out, pool in SMALL_CNN_BLOCKS:
            layers += [nn.Conv2d(c, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True), nn.MaxPool2d(pool)]
            c = out
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(c, classes)
        self.input_norm = nn.Identity()
        init_weights(self)

    def forward(self, x):
        return self.fc(self.features(self.input_norm(x)).mean(dim=(2, 3)))


class VGG16(nn.Module):
    """torchvision's vgg16_bn layout (conv with bias, BN, ReLU; 'M' max-pool 2) with one
    input channel, global average pooling instead of the adaptive 7x7 pool, and a
    512-512-classes classifier."""

    def __init__(self, classes: int = 4, in_channels: int = 1):
        super().__init__()
        layers = []
        c = in_channels
        for v in VGG16_CONFIG:
            if v == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                layers += [nn.Conv2d(c, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
                c = v
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Linear(512, 512),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(512, 512),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(512, classes),
        )
        self.input_norm = nn.Identity()
        init_weights(self)

    def forward(self, x):
        return self.classifier(self.features(self.input_norm(x)).mean(dim=(2, 3)))


class Bottleneck(nn.Module):
    """1x1 -> 3x3 (carries the stride, as torchvision v1.5) -> 1x1 (x4), projection
    shortcut when the shape changes."""

    def __init__(self, in_channels: int, width: int, stride: int):
        super().__init__()
        out = width * 4
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or in_channels != out:
            self.downsample = nn.Sequential(nn.Conv2d(in_channels, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out))

    def forward(self, x):
        h = self.relu(self.bn1(self.conv1(x)))
        h = self.relu(self.bn2(self.conv2(h)))
        h = self.bn3(self.conv3(h))
        return self.relu(h + (self.downsample(x) if self.downsample is not None else x))


class ResNet50(nn.Module):
    """torchvision's resnet50 with conv1 1 -> 64 and fc 2048 -> classes."""

    def __init__(self, classes: int = 4, in_channels: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        c = 64
        for s, blocks in enumerate(RESNET50_STAGES):
            width = 64 * 2**s
            stage = []
            for b in range(blocks):
                stage.append(Bottleneck(c, width, 2 if b == 0 and s > 0 else 1))
                c = width * 4
            setattr(self, f"layer{s + 1}", nn.Sequential(*stage))
        self.fc = nn.Linear(c, classes)
        self.input_norm = nn.Identity()
        init_weights(self)

    def forward(self, x):
        h = self.maxpool(self.relu(self.bn1(self.conv1(self.input_norm(x)))))
        h = self.layer4(self.layer3(self.layer2(self.layer1(h))))
        return self.fc(h.mean(dim=(2, 3)))


MODELS = {"cnn5": CNN5, "vgg16": VGG16, "resnet50": ResNet50, "small": SmallCNN}


def build_model(name: str, classes: int = 4, standardize: bool = False) -> nn.Module:
    """A twin by name; with standardize (the `paper` recipe) it gains `input_norm` (InputNorm)."""
    if name not in MODELS:
        raise ValueError(f"unknown model '{name}': choose one of {', '.join(MODELS)}")
    model = MODELS[name](classes=classes)
    if standardize:
        model.input_norm = InputNorm()
    return model


def model_for_checkpoint(name: str, state: dict) -> nn.Module:
    """The twin a state_dict fits: standardised when it holds `input_norm.mean`; loaded (strict), in eval mode."""
    model = build_model(name, standardize="input_norm.mean" in state)
    model.load_state_dict(state, strict=True)
    return model.eval()


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


_DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "I64": torch.int64, "I32": torch.int32}


def load_checkpoint(path: str) -> dict:
    """A safetensors file as a state_dict: safetensors.torch when installed, otherwise a
    small reader of the format (8-byte header length, JSON header, raw little-endian data)."""
    try:
        from safetensors.torch import load_file
    except ImportError:
        load_file = None
    if load_file is not None:
        return load_file(path)
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    base = 8 + n
    state = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in _DTYPES:
            raise ValueError(f"{path}: tensor '{name}' has unsupported dtype {info['dtype']}")
        begin, end = info["data_offsets"]
        raw = bytearray(data[base + begin : base + end])
        t = torch.frombuffer(raw, dtype=_DTYPES[info["dtype"]]) if raw else torch.empty(0, dtype=_DTYPES[info["dtype"]])
        state[name] = t.reshape(info["shape"])
    return state


_NAMES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.int64: "I64", torch.int32: "I32"}


def save_checkpoint(path: str, state: dict, metadata: dict = None) -> None:
    """A state_dict as safetensors (what safetensors.torch.save_file writes), without
    metadata unless given: tensors in name order, little-endian, 8-byte aligned header."""
    header = {}
    blobs = []
    offset = 0
    for name in sorted(state):
        t = state[name].detach().contiguous().cpu()
        raw = t.numpy().tobytes()
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def randomise_batchnorm(model: nn.Module, generator: torch.Generator) -> None:
    """Running statistics and affine parameters away from their initial values, so a
    comparison exercises every tensor of the state_dict."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2, generator=generator)
                m.running_var.uniform_(0.5, 2.0, generator=generator)
                m.weight.uniform_(0.5, 2.0, generator=generator)
                m.bias.uniform_(-0.2, 0.2, generator=generator)


def main(argv):
    if len(argv) == 4 and argv[0] == "--save-random":
        torch.manual_seed(int(argv[2]))
        model = build_model(argv[1])
        randomise_batchnorm(model, torch.Generator().manual_seed(int(argv[2])))
        save_checkpoint(argv[3], model.state_dict())
        print(f"{argv[3]}: plain state_dict of {argv[1]} (seed {argv[2]})")
        return 0
    if len(argv) >= 3 and argv[0] == "--check":
        state = load_checkpoint(argv[2])
        model = build_model(argv[1], standardize="input_norm.mean" in state)
        result = model.load_state_dict(state, strict=True)
        print(f"{argv[2]}: loads into {argv[1]} ({result})")
        return 0
    if len(argv) >= 4 and argv[0] == "--probs":
        import numpy as np

        model = model_for_checkpoint(argv[1], load_checkpoint(argv[2]))
        x = torch.from_numpy(np.load(argv[3]).astype(np.float32))
        with torch.no_grad():
            print(json.dumps(torch.softmax(model(x), dim=1).tolist()))
        return 0
    for name in MODELS:
        print(f"{name}: {parameter_count(build_model(name)):,} parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
