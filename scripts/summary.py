#!/usr/bin/env python
"""Keras-style summary of a zoo network: python scripts/summary.py --net googlenet --input-shape 1,3,96,96"""
from _launch import launch

launch("gluon_cnn.cli.summary")
