#!/usr/bin/env python
"""Distributed training on MXNet's parameter server: python scripts/launch.py -n 2 -s 1 -- python scripts/train.py --kvstore dist_sync"""
from _launch import launch

launch("gluon_cnn.cli.launch")
