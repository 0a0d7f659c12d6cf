#!/usr/bin/env python
"""Images/s, ms/step, GFLOP/s and peak memory: python scripts/bench.py --net googlenet"""
from _launch import launch

launch("gluon_cnn.cli.bench")
