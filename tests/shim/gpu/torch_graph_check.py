#!/usr/bin/env python3
"""CUDA graphs under the shim: capture a small model (PyTorch's default capture mode), replay
it with changing inputs, and hash the outputs, so that runs with and without libxsched.so can
be compared bit for bit. Also runs two streams and an event wait between them. One JSON line."""
import hashlib
import json

import torch


def main():
    torch.manual_seed(0)
    dev = torch.device("cuda")
    m = torch.nn.Sequential(torch.nn.Linear(512, 512), torch.nn.ReLU(),
                            torch.nn.Linear(512, 512)).to(dev).eval()
    x = torch.randn(64, 512, device=dev)
    h = hashlib.sha256()
    with torch.no_grad():
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                m(x)
        torch.cuda.current_stream().wait_stream(side)
        g = torch.cuda.CUDAGraph()
        static_x = x.clone()
        with torch.cuda.graph(g):
            static_y = m(static_x)
        close = True
        for i in range(50):
            static_x.copy_(x * (i + 1))
            g.replay()
            y = static_y.clone()
            close &= torch.allclose(y, m(x * (i + 1)), rtol=1e-4, atol=1e-4)
            h.update(y.cpu().numpy().tobytes())
        # Two streams, one waiting on the other's event.
        s1, s2 = torch.cuda.Stream(), torch.cuda.Stream()
        with torch.cuda.stream(s1):
            a = m(x)
            ev = torch.cuda.Event()
            ev.record(s1)
        s2.wait_event(ev)
        with torch.cuda.stream(s2):
            b = m(a)
        torch.cuda.synchronize()
        h.update(b.cpu().numpy().tobytes())
    print(json.dumps({"workload": "torch_graph_check", "replays": 50, "close_to_eager": close,
                      "sha256": h.hexdigest()}), flush=True)


if __name__ == "__main__":
    main()
