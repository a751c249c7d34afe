"""Objective evaluation of enhancement systems on (degraded, clean) pairs, with the paper's metrics."""

from muse_fx.evaluation.clips import Clip, find_clips
from muse_fx.evaluation.metrics import METRICS, Metric, score_pair
from muse_fx.evaluation.runner import run

__all__ = ["METRICS", "Clip", "Metric", "find_clips", "run", "score_pair"]
