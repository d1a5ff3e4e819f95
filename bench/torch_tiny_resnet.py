"""The tiny ResNet of configs/models/tiny-resnet-gray32.json in PyTorch, shared by bench/train and
bench/inference: compact 3x3 stem, one basic block per stage, widths 16/32/64/128, global average
pool, cosine head (L2-normalised features and class weights, scale 20, no bias)."""
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
