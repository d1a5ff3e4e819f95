"""bench/train PyTorch side: the same tiny ResNet as configs/models/tiny-resnet-gray32.json
(compact 3x3 stem, one basic block per stage, widths 16/32/64/128, cosine head x20, no bias),
SGD momentum 0.9 + weight decay 1e-4, batch-norm in training mode. Prints one JSON line."""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


class TinyResNet(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.blocks = nn.Sequential(Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2), Block(64, 128, 2))
        self.weight = nn.Parameter(torch.empty(classes, 128))
        nn.init.xavier_uniform_(self.weight)

    def forward(self, x):
        f = self.blocks(self.stem(x)).mean((2, 3))
        return 20 * F.linear(F.normalize(f), F.normalize(self.weight))


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
