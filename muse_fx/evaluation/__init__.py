"""Objective evaluation of enhancement systems on (degraded, clean) pairs, with the paper's metrics."""

from .clips import Clip, find_clips
from .metrics import METRICS, Metric, score_pair
from .runner import run

__all__ = ["METRICS", "Clip", "Metric", "find_clips", "run", "score_pair"]
