#!/usr/bin/env python
"""Import torchvision/timm weights: python scripts/import_weights.py --net resnet18 FILE"""
from _launch import launch

launch("gluon_cnn.cli.import_weights")
