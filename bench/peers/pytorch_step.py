"""Benchmark peer: one training step (forward + backward + Adam) of a model in PyTorch on
the CPU (or a CUDA GPU: --device cuda, float32 with TF32 off), standard and adversarial, the
same work as ser-webgpu's bench/train-step.ts:

  standard:     L = CE(f(x), y)
  adversarial:  the `paper` recipe's training attack (ser-webgpu's default): on an
                evaluation-mode view of the model (running statistics, no dropout, weights
                frozen: no weight gradients), against its own predictions p = argmax f(x)
                from the attack's forward pass,
                x_adv = clamp(x + eps * sign(grad_x CE(f(x), p)), x - 0.1, x + 0.1), then
                L = 0.5 CE(f(x), y) + 0.5 CE(f(x_adv), y) in training mode

Input [batch, 1, 373, 64] uniform in [0, 1], labels i % 4, Adam(lr 1e-3). Prints one JSON
object on stdout with the median seconds per step after warm-up.

    /usr/bin/python3 bench/peers/pytorch_step.py [--model cnn5] [--batch 32] [--steps 3] [--warmup 1] [--threads 2] [--device cpu|cuda]

On CUDA each timed step is bracketed by torch.cuda.synchronize(), TF32 is off for matmuls and
cuDNN convolutions (plain float32, as ours computes), and cuDNN picks its fastest algorithms
during the warm-up (torch.backends.cudnn.benchmark; --no-cudnn-benchmark turns that off).
"""

import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from pytorch_models import build_model  # noqa: E402


def fgsm(model, x, eps, beta=0.1):
    params = list(model.parameters())
    for p in params:
        p.requires_grad_(False)
    model.eval()
    try:
        xg = x.detach().clone().requires_grad_(True)
        logits = model(xg)
        (g,) = torch.autograd.grad(F.cross_entropy(logits, logits.argmax(1)), xg)
    finally:
        model.train()
        for p in params:
            p.requires_grad_(True)
    return torch.min(torch.max(x + eps * g.sign(), x - beta), x + beta)


def step(model, optimizer, x, y, eps, alpha=0.5):
    x_adv = fgsm(model, x, eps) if eps > 0 else None
    optimizer.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(x), y)
    if x_adv is not None:
        loss = alpha * loss + (1 - alpha) * F.cross_entropy(model(x_adv), y)
    loss.backward()
    optimizer.step()
    return loss.item()  # the scalar ours reads back too


def use_float32_on_cuda(cudnn_benchmark=True):
    """Plain float32 on CUDA: TF32 off for matmuls and cuDNN (PyTorch's TF32 notes), cuDNN autotuning on or off."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = cudnn_benchmark


def synchronize(device):
    """Waits for the device's queued work (CUDA kernels run asynchronously); nothing on the CPU."""
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def time_case(name, batch, steps, warmup, eps, seed, device="cpu"):
    torch.manual_seed(seed)
    model = build_model(name).to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    x = torch.rand(batch, 1, 373, 64, device=device)
    y = torch.arange(batch, device=device) % 4
    for _ in range(warmup):
        step(model, optimizer, x, y, eps)
    times = []
    for _ in range(steps):
        synchronize(device)
        t0 = time.perf_counter()
        step(model, optimizer, x, y, eps)
        synchronize(device)
        times.append(time.perf_counter() - t0)
    times.sort()
    # The median as bench/lib.ts takes it (the upper middle for an even count), so ratios compare like with like.
    return {"median": times[len(times) // 2], "min": times[0], "max": times[-1], "runs": len(times)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="cnn5", choices=["cnn5", "vgg16", "resnet50"])
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eps", type=float, default=0.02)
    ap.add_argument("--cases", default="standard,adversarial")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--no-cudnn-benchmark", action="store_true", help="CUDA: keep cuDNN's default algorithms")
    a = ap.parse_args()
    if a.batch < 1 or a.steps < 1 or a.warmup < 0 or a.threads < 1:
        ap.error("--batch, --steps and --threads must be >= 1, --warmup >= 0")
    if a.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: torch.cuda.is_available() is False")
    torch.set_num_threads(a.threads)
    if a.device == "cuda":
        use_float32_on_cuda(not a.no_cudnn_benchmark)
    rows = []
    for case in a.cases.split(","):
        if case not in ("standard", "adversarial"):
            ap.error(f"unknown case '{case}'")
        seconds = time_case(a.model, a.batch, a.steps, a.warmup, a.eps if case == "adversarial" else 0.0, seed=1, device=a.device)
        print(f"pytorch {a.model} {case} batch {a.batch}: {seconds['median']:.3f} s/step", file=sys.stderr)
        rows.append({"case": case, "seconds": seconds})
    print(
        json.dumps(
            {
                "peer": "pytorch",
                "version": torch.__version__,
                "device": (torch.cuda.get_device_name() + ", float32, TF32 off") if a.device == "cuda" else f"cpu, {torch.get_num_threads()} threads",
                "model": a.model,
                "batch": a.batch,
                "eps": a.eps,
                "rows": rows,
            }
        )
    )


if __name__ == "__main__":
    main()
