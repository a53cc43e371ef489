#!/usr/bin/env python3
"""Deterministic forward passes whose outputs are hashed, to compare runs with and without the
shim bit for bit. Also counts the kernels PyTorch's profiler saw (CUPTI), to compare with the
launches the shim counted. Prints one JSON line."""
import argparse, hashlib, json, os

# cuBLAS needs a fixed workspace for deterministic results; set before CUDA starts.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
import torch
import torchvision


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="resnet18:1,resnet50:64")
    ap.add_argument("--profile", action="store_true")
    a = ap.parse_args()
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(True)
    dev = torch.device("cuda")
    out = {"workload": "torch_check"}
    for spec in a.models.split(","):
        name, bs = spec.split(":")
        torch.manual_seed(0)
        model = getattr(torchvision.models, name)(weights=None).to(dev).eval()
        x = torch.randn(int(bs), 3, 224, 224, generator=torch.Generator().manual_seed(1)).to(dev)
        with torch.no_grad():
            if a.profile:
                from torch.profiler import profile, ProfilerActivity
                with profile(activities=[ProfilerActivity.CUDA]) as prof:
                    y = model(x)
                    torch.cuda.synchronize()
                kernels = sum(1 for e in prof.events()
                              if e.device_type == torch.autograd.DeviceType.CUDA)
                out[f"{name}_profiled_gpu_ops"] = kernels
            else:
                y = model(x)
        h = hashlib.sha256(y.float().cpu().numpy().tobytes()).hexdigest()
        out[f"{name}_bs{bs}_sha256"] = h
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
