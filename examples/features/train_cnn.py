#!/usr/bin/python3
"""Trains a small CNN on Fashion-MNIST (CPU) and saves its penultimate-layer features.

Like the report, which searched with the features of a CNN fine-tuned on its own classes, the
128-d output of the last hidden layer becomes the search vector of every training image (the
database) and every test image (the queries). A few epochs take a few minutes on two cores.

Usage: /usr/bin/python3 examples/features/train_cnn.py [--epochs 2] [--threads 2] [--out build/features/cnn]
"""
import argparse
import sys
import time

import numpy as np
import torch
from torch import nn

import fmnist


class SmallCnn(nn.Module):
    """Two small conv blocks (16 and 32 channels) and a 128-d hidden layer; `features` returns that layer (after ReLU)."""

    def __init__(self, feature_dim=128):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 7 * 7, feature_dim), nn.ReLU())
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(feature_dim, 10))

    def features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.body(x))


def to_tensor(images):
    """uint8 (n, 28, 28) -> float (n, 1, 28, 28), scaled to [0, 1] and centred like training."""
    return (torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1) - 0.2860) / 0.3530


@torch.no_grad()
def run_batches(fn, x, batch=1000):
    return torch.cat([fn(x[i:i + batch]) for i in range(0, len(x), batch)])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(fmnist.FEATURES_ROOT / "cnn"), help="output folder")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    x_train, y_train = to_tensor(fmnist.load_images("train")), fmnist.load_labels("train")
    x_test, y_test = to_tensor(fmnist.load_images("t10k")), fmnist.load_labels("t10k")
    y_train_t = torch.from_numpy(y_train)

    model = SmallCnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(x_train))
        total = 0.0
        for i in range(0, len(order), args.batch_size):
            idx = order[i:i + args.batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(x_train[idx]), y_train_t[idx])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
            if (i // args.batch_size) % 100 == 99:
                print(f"  epoch {epoch + 1}: {i + len(idx)}/{len(order)} images, "
                      f"{time.perf_counter() - start:.0f} s", flush=True)
        model.eval()
        accuracy = (run_batches(model, x_test).argmax(1).numpy() == y_test).mean()
        print(f"epoch {epoch + 1}/{args.epochs}: train loss {total / len(order):.4f}, "
              f"test accuracy {accuracy:.4f} ({time.perf_counter() - start:.0f} s)", flush=True)

    model.eval()
    base = run_batches(model.features, x_train).numpy()
    query = run_batches(model.features, x_test).numpy()
    fmnist.save_features(args.out, base, y_train, query, y_test,
                         {"kind": "cnn", "model": "model.pt", "epochs": args.epochs,
                          "test_accuracy": float(accuracy)})
    torch.save(model.state_dict(), f"{args.out}/model.pt")
    print(f"cnn: test accuracy {accuracy:.4f}; {base.shape[0]} base and {query.shape[0]} query "
          f"features of {base.shape[1]} dims written to {args.out}")


if __name__ == "__main__":
    sys.exit(main())
