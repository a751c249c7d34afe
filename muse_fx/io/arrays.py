"""Checking and reshaping the arrays users hand us, with errors that say what is wrong and what to do."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from muse_fx.errors import AudioInputError, NonFiniteOutputError

MAX_CHANNELS = 8
SAMPLE_RATE_RANGE = (4000, 768000)
# +200 dBFS. Float audio is full scale at ±1; even integer PCM stored unscaled as float stays below 2**31. Beyond this
# a file is broken, not loud, and float32 arithmetic overflows not far above (the model's output is NaN from 1e18).
MAX_PEAK = 1e10


@dataclass(frozen=True)
class AudioInfo:
    """A file's header facts, whichever decoder (libsndfile or FFmpeg) read them."""

    sample_rate: int
    channels: int
    frames: int
    format: str
    subtype: str
    # Cut short: an MP3 whose header gives `promised` frames, or an Ogg without its end-of-stream mark (no promise).
    # `frames` counts the audio really there.
    truncated: bool = False
    promised: int | None = None


@dataclass(frozen=True)
class Layout:
    """How an array holds its channels, so the result can be handed back in the same shape."""

    ndim: int
    channels_first: bool

    def to_channels_first(self, array: np.ndarray) -> np.ndarray:
        if self.ndim == 1:
            return array[np.newaxis, :]
        return array if self.channels_first else array.T

    def restore(self, array: np.ndarray) -> np.ndarray:
        if self.ndim == 1:
            return array[0]
        return array if self.channels_first else array.T

    def no_samples(self, block: np.ndarray) -> np.ndarray:
        """What a held `block` gets back: float32 of its channels and no samples, in this layout."""
        return self.restore(np.zeros((self.to_channels_first(block).shape[0], 0), np.float32))


def detect_layout(array: np.ndarray, hint: Layout | None = None) -> Layout:
    """(samples,), (channels, samples) or (samples, channels), decided like pedalboard: the short side is channels
    (a side of 0 is the samples: no channels is no audio).

    `hint` (the layout of the previous block in a stream) settles ambiguous shapes such as a 2×2 block.
    """
    if array.ndim == 1:
        return Layout(1, True)
    if array.ndim != 2:
        raise AudioInputError(
            f"audio must be 1-D (samples,) or 2-D (channels, samples), got an array of shape {array.shape}"
        )
    rows, cols = array.shape
    if hint is not None and hint.ndim == 2:
        channels = rows if hint.channels_first else cols
        if channels <= MAX_CHANNELS:
            return hint
    channels_first = cols == 0 if 0 in (rows, cols) else rows <= cols  # a side of 0 holds no channels: samples
    if (rows if channels_first else cols) <= MAX_CHANNELS:
        return Layout(2, channels_first)
    raise AudioInputError(
        f"audio of shape {array.shape} has more than {MAX_CHANNELS} channels whichever way it is read; "
        f"muse_fx handles up to {MAX_CHANNELS} channels: split the file into stems or groups of channels"
    )


def shape_tells_layout(array: np.ndarray) -> bool:
    """Whether one block's shape alone says which axis holds channels. A (2, 1) block may be one stereo sample or
    two mono ones; a side longer than MAX_CHANNELS, or a side of 0 (no channels is no audio), tells."""
    if array.ndim != 2:
        return True
    return max(array.shape) > MAX_CHANNELS or min(array.shape) == 0 < max(array.shape)


def untold_layout(array: np.ndarray) -> Layout:
    """How a 2-D block too small to tell is read: a side of 1 beside a longer one is the samples."""
    return Layout(2, not array.shape[0] == 1 < array.shape[1])


class StreamLayout:
    """The layout of a stream's blocks (reset=False), kept from its first block whose shape tells.

    Hosts often open a stream with a block of 0 or 1 samples. Blocks too small to tell are held (their result is
    empty) until one that tells arrives, so the channel count never locks in from a guess. Until then, and if the
    stream ends first, a block with one side of 1 reads as one sample of several channels, else as
    (channels, samples), the order muse_fx documents.
    """

    def __init__(self) -> None:
        self.layout: Layout | None = None
        self.held: list[np.ndarray] = []

    def read(self, block: np.ndarray, sample_rate: float, final: bool) -> tuple[Layout, np.ndarray | None, int]:
        """→ the layout to hand this block's result back in, the (channels, samples) float32 audio to process now
        (held blocks first; None while the layout is untold: the block is held) and the rate in whole Hz."""
        array, rate = check_samples(np.asarray(block)), check_sample_rate(sample_rate)
        if self.layout is None and not (final or shape_tells_layout(array)):
            self.held += [array] if array.size else []
            return untold_layout(array), None, rate
        if self.layout is None:  # this block tells, or is a whole recording; else the held ones end the stream
            self.layout = detect_layout(array) if shape_tells_layout(array) or not self.held else untold_layout(array)
        blocks, self.held = [*self.held, array], []
        parts = [detect_layout(part, self.layout).to_channels_first(part) for part in blocks]
        if len(counts := sorted({part.shape[0] for part in parts})) > 1:
            raise AudioInputError(
                f"the stream's first blocks hold {' and '.join(map(str, counts))} channels; "
                "give every block of a recording the same channels, and call reset() between recordings"
            )
        audio = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)  # a whole recording is not copied
        return self.layout, np.ascontiguousarray(audio), rate


def check_sample_rate(sample_rate: float) -> int:
    low, high = SAMPLE_RATE_RANGE
    if not float(sample_rate).is_integer() or not low <= sample_rate <= high:
        raise AudioInputError(
            f"sample rate {sample_rate!r} Hz is unusable: muse_fx needs a whole number of Hz from {low} to {high}; "
            "check the file header or the value passed as sample_rate"
        )
    return int(sample_rate)


def check_samples(array: np.ndarray) -> np.ndarray:
    """Float audio without NaN/Inf, as float32."""
    if not np.issubdtype(array.dtype, np.floating):
        raise AudioInputError(
            f"audio must be floating point (float32 or float64, full scale ±1.0), got dtype {array.dtype}; "
            "convert integer PCM with array / np.iinfo(array.dtype).max"
        )
    peak = float(np.max(np.abs(array), initial=0.0))  # NaN if any sample is NaN
    if not math.isfinite(peak):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise AudioInputError(
            f"audio contains {bad} NaN or infinite sample(s); the recording or an earlier effect is broken — "
            "fix or trim it (e.g. np.nan_to_num) before enhancing"
        )
    if peak > MAX_PEAK:
        raise AudioInputError(
            f"audio peaks at {peak:.3g} ({20 * math.log10(peak):+.0f} dBFS); float audio is full scale at ±1.0, and "
            "a level this far above it is a broken export, not a recording — normalise it (divide by its peak) first"
        )
    return array.astype(np.float32, copy=False)


def check_finite(audio: npt.ArrayLike, produced_by: Callable[[], str], advice: str) -> None:
    """Stop NaN or Inf where it is made, so no writer ever gets it: `produced_by()` names the maker of `audio` (any
    array, or a CPU tensor), asked only on failure; `advice` says what to do."""
    finite = np.isfinite(np.asarray(audio))
    if not finite.all():
        bad = finite.size - int(np.count_nonzero(finite))
        raise NonFiniteOutputError(
            f"{produced_by()} produced {bad} NaN or infinite sample(s) of {finite.size} from finite audio; {advice}"
        )


def prepare(audio: np.ndarray, sample_rate: float, hint: Layout | None = None) -> tuple[Layout, np.ndarray, int]:
    """Any accepted array and rate → (its layout, checked (channels, samples) float32, rate in whole Hz)."""
    array = np.asarray(audio)
    layout = detect_layout(array, hint)
    rate = check_sample_rate(sample_rate)
    return layout, np.ascontiguousarray(check_samples(layout.to_channels_first(array))), rate
