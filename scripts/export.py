#!/usr/bin/env python
"""Export a checkpoint for deployment: python scripts/export.py RUN_DIR"""
from _launch import launch

launch("gluon_cnn.cli.export")
