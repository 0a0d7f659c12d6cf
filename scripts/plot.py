#!/usr/bin/env python
"""Learning curves of training runs: python scripts/plot.py RUN_DIR [RUN_DIR ...] [--reference]"""
from _launch import launch

launch("gluon_cnn.cli.plot")
