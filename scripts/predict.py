#!/usr/bin/env python
"""Top-5 classes from an export: python scripts/predict.py --model PREFIX IMAGE..."""
from _launch import launch

launch("gluon_cnn.cli.predict")
