#!/usr/bin/env python3
"""Deterministic forward passes whose outputs are hashed, to compare runs with and without the
shim bit for bit. Also counts the kernels PyTorch's profiler saw (CUPTI), to compare with the
launches the shim counted. Prints one JSON line."""
import argparse, hashlib, json, os, subprocess

# cuBLAS needs a fixed workspace for deterministic results; set before CUDA starts.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
import torch
import torchvision


def shim_launches(testctl):
    """Commands this process's shim has counted so far (all GPUs), read from the shared
    segment by the test controller's --dump; None without the shim."""
    if not testctl or "libxsched" not in os.environ.get("LD_PRELOAD", ""):
        return None
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    d = json.loads(subprocess.run([testctl, "--dump"], capture_output=True, text=True,
                                  env=env, check=True).stdout)
    return sum(g["launches"] for p in d["procs"] if p["pid"] == os.getpid() and p["alive"]
               for g in p["gpus"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="resnet18:1,resnet50:64")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--testctl", default="", help="xsched-testctl, to read the shim's counts")
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
                torch.cuda.synchronize()
                before = shim_launches(a.testctl)
                with profile(activities=[ProfilerActivity.CUDA]) as prof:
                    y = model(x)
                    torch.cuda.synchronize()
                after = shim_launches(a.testctl)
                # Kernels, copies and memsets the GPU ran (CUPTI), against the commands
                # the shim saw submitted over the same region.
                ops = sum(1 for e in prof.events()
                          if e.device_type == torch.autograd.DeviceType.CUDA)
                out[f"{name}_profiled_gpu_ops"] = ops
                if before is not None:
                    out[f"{name}_shim_commands"] = after - before
            else:
                y = model(x)
        h = hashlib.sha256(y.float().cpu().numpy().tobytes()).hexdigest()
        out[f"{name}_bs{bs}_sha256"] = h
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
