"""A humanised drum-kit groove to play under a tune: cymbals and hi-hats put real energy above 10 kHz."""

from __future__ import annotations

import random

from muse_fx.training.humanise import TIMING_JITTER_S, Event

# General MIDI percussion keys (the avldrums kits follow the same map).
KICK, SNARE, CLOSED_HAT, PEDAL_HAT, OPEN_HAT, CRASH, RIDE, RIDE_BELL, SPLASH = 36, 38, 42, 44, 46, 49, 51, 53, 55
HIT_S = 0.25  # a drum note's length: the kit's own samples decide how long it rings


def groove(bpm: float, seconds: float, rng: random.Random) -> tuple[Event, ...]:
    """Kick on 1 and 3, snare (or a rim-like soft snare) on 2 and 4, eighths on a hat or the ride, a crash or
    splash every few bars, with per-hit timing and velocity jitter."""
    beat = 60.0 / bpm
    timekeeper = rng.choice((CLOSED_HAT, CLOSED_HAT, RIDE, PEDAL_HAT))
    phrase_bars = rng.choice((4, 8))
    loud = rng.uniform(50, 100)
    events = []

    def hit(time: float, key: int, velocity: float) -> None:
        start = max(0.0, time + rng.gauss(0.0, TIMING_JITTER_S))
        events.append(Event(start, start + HIT_S, key, int(min(127, max(15, velocity + rng.gauss(0.0, 8.0))))))

    for eighth in range(int(seconds / beat * 2)):
        time, beat_in_bar = eighth * beat / 2, (eighth // 2) % 4
        on_beat = eighth % 2 == 0
        opens = timekeeper == CLOSED_HAT and rng.random() < 0.06
        hit(time, OPEN_HAT if opens else timekeeper, loud * (1.0 if on_beat else 0.75))
        if on_beat and beat_in_bar in (0, 2):
            hit(time, KICK, loud)
        if on_beat and beat_in_bar in (1, 3):
            hit(time, SNARE, loud * rng.uniform(0.6, 1.0))
        if eighth % (8 * phrase_bars) == 0:
            hit(time, rng.choice((CRASH, CRASH, SPLASH, RIDE_BELL)), loud * 1.1)
    return tuple(events)
