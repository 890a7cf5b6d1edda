"""PyTorch beside ser-webgpu on the same card, in one process (importing torch and starting
CUDA once): the card's float32 matrix rate and copy bandwidth through PyTorch, the convolution
layers of bench/conv2d.ts (forward, input gradient, weight gradient), a 1024^3 matmul as in
bench/kernels.ts, and the training steps and inference passes of bench/train-step.ts
(bench/peers/pytorch_step.py's step). Plain float32: TF32 off for matmuls and cuDNN. Prints
progress on stderr and writes one JSON object to --out (and stdout).

    python3 bench/gpu/pytorch_gpu.py [--device cuda] [--batch 32] [--models cnn5,vgg16,resnet50]
        [--steps cnn5=10,vgg16=3,resnet50=5] [--layers all] [--runs 10] [--repeat 5] [--out FILE]

Timing: on CUDA, CUDA events around `repeat` calls, the median of `runs` such runs after a
warm-up; training steps are timed as pytorch_step.py times them (synchronize, wall clock).
"""

import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "peers"))
from pytorch_step import time_case, use_float32_on_cuda, synchronize  # noqa: E402
from pytorch_models import build_model  # noqa: E402  (pytorch_step put tools/ on the path)

# The layers of bench/conv2d.ts (LAYERS there): id, input [C, H, W], weight [O, C, k, k],
# stride, padding. The table pairs a row with ours only where the shapes agree.
LAYERS = [
    ("cnn5-1", [1, 373, 64], [32, 1, 3, 3], 1, 1),
    ("cnn5-2", [32, 186, 32], [64, 32, 3, 3], 1, 1),
    ("cnn5-3", [64, 93, 16], [128, 64, 3, 3], 1, 1),
    ("cnn5-4", [128, 46, 8], [256, 128, 3, 3], 1, 1),
    ("cnn5-5", [256, 23, 4], [256, 256, 3, 3], 1, 1),
    ("vgg-1", [1, 373, 64], [64, 1, 3, 3], 1, 1),
    ("vgg-2", [64, 373, 64], [64, 64, 3, 3], 1, 1),
    ("resnet-1", [1, 373, 64], [64, 1, 7, 7], 2, 3),
    ("resnet-2", [256, 94, 16], [64, 256, 1, 1], 1, 0),
    ("resnet-3", [64, 94, 16], [64, 64, 3, 3], 1, 1),
    ("resnet-4", [128, 94, 16], [128, 128, 3, 3], 2, 1),
]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def time_calls(fn, device, runs, repeat, warmup=2):
    """Median seconds per call of `runs` runs of `repeat` calls of fn, after `warmup` calls."""
    for _ in range(warmup):
        fn()
    synchronize(device)
    times = []
    for _ in range(runs):
        if str(device).startswith("cuda"):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(repeat):
                fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / 1000 / repeat)
        else:
            t0 = time.perf_counter()
            for _ in range(repeat):
                fn()
            times.append((time.perf_counter() - t0) / repeat)
    times.sort()
    return {"median": times[len(times) // 2], "min": times[0], "max": times[-1], "runs": len(times)}


def peaks(device, n, runs, repeat):
    """The card's float32 matrix rate (n^3 matmul, TF32 off) and device-to-device copy rate, through PyTorch."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    mm = time_calls(lambda: torch.mm(a, b), device, runs, repeat)
    src = torch.rand(64 * 2**20 if str(device).startswith("cuda") else 4 * 2**20, device=device)  # 256 MiB on a GPU
    dst = torch.empty_like(src)
    cp = time_calls(lambda: dst.copy_(src), device, runs, repeat)
    return [
        {"case": f"matmul {n}x{n}x{n} float32", "seconds": mm, "flop": 2 * n**3},
        {"case": f"copy {src.numel() * 4 // 2**20} MiB", "seconds": cp, "bytes": 2 * src.numel() * 4},
    ]


def conv_layers(device, batch, ids, runs, repeat):
    rows = []
    g = torch.Generator(device="cpu").manual_seed(1)
    for lid, xs, ws, stride, pad in LAYERS:
        if ids != ["all"] and lid not in ids:
            continue
        x = (torch.rand([batch] + xs, generator=g) * 2 - 1).to(device)
        w = (torch.rand(ws, generator=g) * 2 - 1).to(device)
        b = (torch.rand([ws[0]], generator=g) * 2 - 1).to(device)
        y = F.conv2d(x, w, b, stride, pad)
        dy = (torch.rand(y.shape, generator=g) * 2 - 1).to(device)
        ho, wo = y.shape[2], y.shape[3]
        flop = 2 * batch * ws[0] * ho * wo * ws[1] * ws[2] * ws[3]
        seconds = {
            "forward": time_calls(lambda: F.conv2d(x, w, b, stride, pad), device, runs, repeat),
            "inputGrad": time_calls(lambda: torch.nn.grad.conv2d_input(x.shape, w, dy, stride, pad), device, runs, repeat),
            "weightGrad": time_calls(lambda: torch.nn.grad.conv2d_weight(x, w.shape, dy, stride, pad), device, runs, repeat),
        }
        log(f"pytorch conv {lid}: " + ", ".join(f"{k} {v['median'] * 1e3:.3f} ms" for k, v in seconds.items()))
        rows.append({"layer": lid, "x": [batch] + xs, "w": ws, "stride": stride, "padding": pad, "flop": flop, "seconds": seconds})
        del x, w, b, y, dy
    return rows


def inference(name, batch, device, runs):
    torch.manual_seed(1)
    model = build_model(name).to(device).eval()
    x = torch.rand(batch, 1, 373, 64, device=device)
    with torch.no_grad():
        return time_calls(lambda: model(x), device, runs, 1, warmup=1)


def parse_steps(text, models):
    steps = {}
    for item in text.split(","):
        if "=" in item:
            k, v = item.split("=", 1)
            steps[k] = int(v)
        else:
            steps.update({m: int(item) for m in models})
    return steps


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu", "auto"], help="auto: cuda if available, else cpu")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--models", default="cnn5,vgg16,resnet50")
    ap.add_argument("--steps", default="cnn5=10,vgg16=3,resnet50=5", help="timed steps per model (MODEL=N,... or N)")
    ap.add_argument("--layers", default="all", help="conv layer ids of bench/conv2d.ts, comma-separated, or all")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--matmul", type=int, default=8192, help="size of the square matmul for the float32 rate")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0: PyTorch's default)")
    ap.add_argument("--parts", default="peaks,layers,steps", help="which parts to run, comma-separated")
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    if a.device == "auto":
        a.device = "cuda" if torch.cuda.is_available() else "cpu"
    if a.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: torch.cuda.is_available() is False")
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    models = [m for m in a.models.split(",") if m]
    steps = parse_steps(a.steps, models)
    parts = a.parts.split(",")
    device = torch.device(a.device)
    if a.device == "cuda":
        use_float32_on_cuda(True)
    result = {
        "peer": "pytorch",
        "version": torch.__version__,
        "device": (torch.cuda.get_device_name() + ", float32, TF32 off, cudnn.benchmark") if a.device == "cuda" else f"cpu, {torch.get_num_threads()} threads",
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if a.device == "cuda" else None,
        "batch": a.batch,
        "peaks": [],
        "kernels": [],
        "layers": [],
        "steps": [],
        "errors": [],
    }
    t0 = time.time()

    def guarded(what, fn):
        # One failing part is reported and the rest go on.
        try:
            fn()
        except Exception as e:  # noqa: BLE001
            log(f"pytorch {what} failed: {type(e).__name__}: {e}")
            result["errors"].append(f"{what}: {type(e).__name__}: {e}")
            if a.device == "cuda":
                torch.cuda.empty_cache()

    if "peaks" in parts:
        guarded("peaks", lambda: result["peaks"].extend(peaks(device, a.matmul, a.runs, a.repeat)))
        guarded("matmul 1024", lambda: result["kernels"].append({"case": "matmul 1024x1024x1024", "seconds": time_calls(lambda m=torch.randn(1024, 1024, device=device): torch.mm(m, m), device, a.runs, a.repeat), "flop": 2 * 1024**3}))
        for r in result["peaks"] + result["kernels"]:
            rate = f"{r['flop'] / r['seconds']['median'] / 1e9:.0f} GFLOP/s" if "flop" in r else f"{r['bytes'] / r['seconds']['median'] / 1e9:.0f} GB/s"
            log(f"pytorch {r['case']}: {r['seconds']['median'] * 1e3:.3f} ms, {rate}")
    if "layers" in parts:
        guarded("layers", lambda: result["layers"].extend(conv_layers(device, a.batch, a.layers.split(","), a.runs, a.repeat)))
    if "steps" in parts:
        for m in models:
            for case in ("standard", "adversarial"):
                def one(m=m, case=case):
                    s = time_case(m, a.batch, steps.get(m, 3), 1, 0.02 if case == "adversarial" else 0.0, seed=1, device=device)
                    result["steps"].append({"model": m, "case": case, "seconds": s})
                    log(f"pytorch {m} {case} batch {a.batch}: {s['median']:.4f} s/step")
                guarded(f"{m} {case}", one)

            def fwd(m=m):
                s = inference(m, a.batch, device, max(3, steps.get(m, 3)))
                result["steps"].append({"model": m, "case": "forward", "seconds": s})
                log(f"pytorch {m} forward batch {a.batch}: {s['median']:.4f} s")
            guarded(f"{m} forward", fwd)
    result["seconds"] = time.time() - t0
    text = json.dumps(result)
    if a.out:
        tmp = a.out + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, a.out)
    print(text)


if __name__ == "__main__":
    main()
