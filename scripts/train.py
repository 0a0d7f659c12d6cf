#!/usr/bin/env python
"""Train a zoo network (defaults: seed 002's GoogLeNet run): python scripts/train.py --net googlenet"""
from _launch import launch

launch("gluon_cnn.cli.train")
