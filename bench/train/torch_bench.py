"""bench/train PyTorch side: the same tiny ResNet as configs/models/tiny-resnet-gray32.json
(compact 3x3 stem, one basic block per stage, widths 16/32/64/128, cosine head x20, no bias),
SGD momentum 0.9 + weight decay 1e-4, batch-norm in training mode. Prints one JSON line."""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from torch_tiny_resnet import TinyResNet  # noqa: E402


def main():
    args = json.loads(sys.argv[1])
    torch.set_num_threads(args["threads"])
    torch.manual_seed(0)
    n, c, k, steps = args["batch"], args["size"], args["classes"], args["steps"]
    model = TinyResNet(k)
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    x = torch.randn(n, 1, c, c)
    y = torch.randint(0, k, (n,))
    model.train()
    for i in range(steps + 1):
        if i == 1:
            t0 = time.perf_counter()
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    train_ips = n * steps / (time.perf_counter() - t0)
    model.eval()
    with torch.no_grad():
        model(x)
        t0 = time.perf_counter()
        for _ in range(steps):
            model(x)
        infer_ips = n * steps / (time.perf_counter() - t0)
    print(json.dumps({"params": params, "trainImagesPerSecond": train_ips, "inferImagesPerSecond": infer_ips,
                      "threads": args["threads"], "torch": torch.__version__}))


main()
