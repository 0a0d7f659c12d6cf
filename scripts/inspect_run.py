#!/usr/bin/env python
"""Confusion matrix, per-class metrics and mistakes of a run: python scripts/inspect_run.py RUN_DIR"""
from _launch import launch

launch("gluon_cnn.cli.inspect_run")
