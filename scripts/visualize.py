#!/usr/bin/env python
"""Filters and feature maps: python scripts/visualize.py --net googlenet --image cat.jpg"""
from _launch import launch

launch("gluon_cnn.cli.visualize")
