"""A minimal Standard MIDI File writer: one track, one channel, times in seconds; all FluidSynth needs."""

from __future__ import annotations

import struct

from muse_fx.training.humanise import Event

TICKS_PER_QUARTER = 480
TICKS_PER_SECOND = 960  # at the fixed 120 BPM tempo written below
DRUM_CHANNEL = 9  # General MIDI's channel 10: a GM soundfont plays its drum kit (bank 128) there


def _varlen(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def midi_bytes(events: tuple[Event, ...], program: int, channel: int = 0) -> bytes:
    """Note events → SMF format 0 bytes. Note-offs sort before note-ons at the same tick so repeats re-strike."""
    timed = []
    for e in events:
        timed.append((round(e.start * TICKS_PER_SECOND), 1, bytes([0x90 | channel, e.pitch, e.velocity])))
        timed.append((round(e.end * TICKS_PER_SECOND), 0, bytes([0x80 | channel, e.pitch, 0])))
    timed.sort(key=lambda item: (item[0], item[1]))
    tempo = b"\x00\xff\x51\x03" + (500000).to_bytes(3, "big")
    track = bytearray(tempo + b"\x00" + bytes([0xC0 | channel, program]))
    now = 0
    for tick, _, message in timed:
        track += _varlen(tick - now) + message
        now = tick
    track += b"\x00\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS_PER_QUARTER)
    return header + b"MTrk" + struct.pack(">I", len(track)) + bytes(track)
