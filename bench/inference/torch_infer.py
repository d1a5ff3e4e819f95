"""bench/inference PyTorch side: the tiny ResNet of configs/models/tiny-resnet-gray32.json
(compact 3x3 stem, one basic block per stage, widths 16/32/64/128, cosine head x20), eval mode,
no_grad, classifying crops with TTA 7-crop: each crop is 7 views of 32x32, the model's logits are
averaged over the views, then softmax. Prints one JSON line with crops/s."""
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
    crops, views, size, classes, seconds = args["crops"], args["views"], args["size"], args["classes"], args["seconds"]
    model = TinyResNet(classes).eval()
    params = sum(p.numel() for p in model.parameters())
    x = torch.randn(crops * views, 1, size, size)
    with torch.no_grad():
        for _ in range(3):
            model(x)
        n = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            probs = F.softmax(model(x).view(crops, views, classes).mean(1), 1)
            n += crops
        elapsed = time.perf_counter() - t0
    assert probs.shape == (crops, classes)
    print(json.dumps({"params": params, "cropsPerSecond": n / elapsed, "threads": args["threads"],
                      "torch": torch.__version__}))


main()
