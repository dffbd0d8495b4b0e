#!/usr/bin/env python3
"""Exports torchvision's ResNet-50 and MobileNetV2 (random weights, eval mode) as ONNX, opset 13.

Writes OUT_DIR/torchvision_resnet50.onnx and OUT_DIR/torchvision_mobilenet_v2.onnx, input
"input" [1, 3, 224, 224], output "logits" [1, 1000]. Freshly initialized BatchNorm layers have
mean 0 and variance 1; their statistics are randomized (seeded) so that the folded
convolutions are not plain identities of the initialization.
"""
import argparse
from pathlib import Path

import torch
import torchvision


def randomize_batch_norms(model, generator):
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            c = module.num_features
            module.running_mean.copy_((torch.rand(c, generator=generator) - 0.5) * 0.2)
            module.running_var.copy_(torch.rand(c, generator=generator) + 0.5)
            module.weight.data.copy_(torch.rand(c, generator=generator) * 0.5 + 0.5)
            module.bias.data.copy_((torch.rand(c, generator=generator) - 0.5) * 0.2)


def export(name, out_dir, seed):
    torch.manual_seed(seed)
    model = getattr(torchvision.models, name)(weights=None).eval()
    with torch.no_grad():
        randomize_batch_norms(model, torch.Generator().manual_seed(seed))
    path = Path(out_dir) / f"torchvision_{name}.onnx"
    torch.onnx.export(model, torch.randn(1, 3, 224, 224), str(path), opset_version=13,
                      input_names=["input"], output_names=["logits"])
    print(f"exported  torchvision {name} to {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out-dir", default=".", help="folder to write the two models to")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights")
    args = parser.parse_args()
    Path(args.out_dir).mkdir(parents=True, exist_ok=True)
    for name in ("resnet50", "mobilenet_v2"):
        export(name, args.out_dir, args.seed)


if __name__ == "__main__":
    main()
