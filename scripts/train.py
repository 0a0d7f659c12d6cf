#!/usr/bin/env python
"""Train a zoo network (defaults: the MXNet Gluon GoogLeNet tutorial's run):
python scripts/train.py --net googlenet"""
from _launch import launch

launch("gluon_cnn.cli.train")
