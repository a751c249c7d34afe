"""Every enhancement setting, declared once: its type, valid values, default and help.

The CLI's options (`muse_fx.cli.setting_options`), the server's form fields (`muse_fx.server.params`) and the
fields sent to one (`muse_fx.backends.remote`), the keys a preset may give MuseEnhance, MuseEnhance's checked attributes
(`Checked`), the Audacity panel's sliders and audition's sweeps are all derived from the declarations below, so a
setting is added or changed here and nowhere else. `Settings` holds one enhancement's values, each checked on
creation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Generic, TypeVar, overload

from muse_fx.errors import SettingError

MAX_SEED = 2**63 - 1  # a signed 64-bit integer, so every client language can hold it
_INTEGER_FLOORS: dict[float | None, str] = {None: "an integer", 0: "a non-negative integer", 1: "a positive integer"}


@dataclass(frozen=True)
class Setting:
    """One setting's declaration. `choices` lists the valid values (a mapping says what each one does);
    otherwise `low`…`high` bound a number, and `ends` says what each bound means."""

    name: str
    type: type
    default: Any
    help: str
    choices: Sequence[Any] | Mapping[Any, str] = ()
    low: float | None = None
    high: float | None = None
    ends: tuple[str, str] = ("", "")
    compare: tuple[Any, ...] = ()  # the values an audition renders side by side when the user names none

    def check(self, value: Any) -> Any:
        """`value` as this setting's type, or ValueError naming the setting, what is valid and what came."""
        converted = self._convert(value)
        if converted is None or not self._allows(converted):
            raise SettingError(f"{self.name} must be {self.requirement()}, got {value!r}")
        return converted

    def requirement(self) -> str:
        """What a valid value is, as error messages say it: "between 0.0 (dry) and 1.0 (fully enhanced)"."""
        if isinstance(self.choices, Mapping):
            return " or ".join(f"{value} ({meaning})" for value, meaning in self.choices.items())
        if self.choices:
            return f"one of {', '.join(map(str, self.choices))}"
        if self.type is float:
            return f"between {self.low} ({self.ends[0]}) and {self.high} ({self.ends[1]})"
        kind = _INTEGER_FLOORS.get(self.low, f"an integer from {self.low}")
        if self.high is None:
            return kind
        return f"{kind} up to {self.high}" + (f" ({self.ends[1]})" if self.ends[1] else "")

    def _convert(self, value: Any) -> Any:
        """`value` as `type` (None when it is not one); an int must be whole: 1.5 and "5" are not seeds."""
        if self.type is bool:
            return bool(value)
        if self.type is str:
            return value
        try:
            converted = self.type(value)
        except (TypeError, ValueError, OverflowError):
            return None
        return None if self.type is int and converted != value else converted

    def _allows(self, value: Any) -> bool:
        if self.choices:
            return value in self.choices
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)  # NaN: False


MODEL = Setting("model", str, "default", "Bundled model name or .safetensors path")
MUSECODER = Setting(
    "musecoder", str, "fast", "How mels become audio: fast (a gain) or diffusion", choices=("fast", "diffusion")
)
STEPS = Setting("steps", int, 6, "Diffusion steps", choices={6: "fast schedule", 50: "the paper's full chain"})
MIX = Setting("mix", float, 1.0, "Dry/wet", low=0.0, high=1.0, ends=("dry", "fully enhanced"))
STRENGTH = Setting(  # how far the enhancer may cut (fast_path.limit_attenuation); separate from `mix`, which blends
    "strength",
    float,
    1.0,
    "How far noise and reverb may be cut",
    low=0.0,
    high=1.0,
    ends=("no noise cut at all", "the model's full reduction"),
    compare=(0.5, 1.0),
)
SEED = Setting(
    "seed", int, 0, "Seed for diffusion noise (same seed, same output)", low=0, high=MAX_SEED, ends=("", "2**63 - 1")
)
FULL_BAND = Setting("full_band", bool, True, "Keep the input's band above the model's Nyquist frequency")
DEVICE = Setting("device", str, "auto", "Where to run")  # auto, cpu, cuda, cuda:N or mps: resolve_device checks it
WARM_START = Setting("warm_start", bool, True, "Diffusion starts from the noised fast output")
PRECISION = Setting(  # the generator's arithmetic on a CPU (engine.devices.generator_dtype); GPUs keep float32
    "precision",
    str,
    "auto",
    "The generator's arithmetic on a CPU",
    choices={
        "auto": "bfloat16 where the CPU computes it natively, else float32",
        "float32": "the same output on every CPU, to float rounding",
        "bfloat16": "about 1.7x faster with AVX512-BF16 or AMX, slower without",
    },
)


def default_batch_size(device_type: str, musecoder: str = "fast") -> int:
    """Chunks per forward pass for one recording: a GPU's pass costs about the same for 16 chunks as for 1;
    a CPU's grows with the batch, and diffusion's many passes per chunk gain nothing from batching there."""
    if device_type != "cpu":
        return 16
    return 4 if musecoder == "fast" else 1


def default_server_batch(device_type: str) -> int:
    """Chunks per forward pass on a server, shared by concurrent requests: more than one recording's."""
    return 32 if device_type == "cuda" else 8


BATCH_SIZE = Setting("batch_size", int, default_batch_size("cpu"), "Chunks per forward pass", low=1)

RENDERING = (MUSECODER, STEPS, MIX, STRENGTH, SEED, FULL_BAND)  # how a loaded model renders: Settings holds them
SOUND = (MODEL, *RENDERING)  # shape the result: presets save them, requests send
ADDED_LATER = (STRENGTH,)  # servers from before these refuse them: requests send them only when not at the default
LEVELS = (STRENGTH, MIX)  # the 0…1 settings set by ear: the Audacity panel's sliders, the values audition sweeps
PRESET = (*SOUND, DEVICE, PRECISION)  # a preset's MuseEnhance may also say where and in what arithmetic to run
DECLARED = {setting.name: setting for setting in (*PRESET, WARM_START, BATCH_SIZE)}


@dataclass(frozen=True, kw_only=True)
class Settings:
    """How one enhancement runs (the model aside): `RENDERING`, then how the engine batches, starts diffusion and
    computes the generator, in that order; each value is checked against its declaration. Build it by name:
    `Settings(mix=0.5)`."""

    musecoder: str = MUSECODER.default
    steps: int = STEPS.default
    mix: float = MIX.default
    strength: float = STRENGTH.default
    seed: int = SEED.default
    full_band: bool = FULL_BAND.default
    batch_size: int = BATCH_SIZE.default
    warm_start: bool = WARM_START.default
    precision: str = PRECISION.default

    def __post_init__(self) -> None:
        for field in fields(self):
            object.__setattr__(self, field.name, DECLARED[field.name].check(getattr(self, field.name)))


T = TypeVar("T")


class Checked(Generic[T]):
    """An attribute holding one setting's value, checked by its declaration whenever it is set:
    `mix = Checked[float](MIX)` in a class body keeps the value in `_mix`."""

    def __init__(self, setting: Setting):
        self.setting = setting
        self.__doc__ = f"{setting.help}: {setting.requirement()}."

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}"

    @overload
    def __get__(self, instance: None, owner: type) -> Checked[T]: ...
    @overload
    def __get__(self, instance: object, owner: type) -> T: ...
    def __get__(self, instance: object | None, owner: type) -> Checked[T] | T:
        return self if instance is None else getattr(instance, self.slot)

    def __set__(self, instance: object, value: Any) -> None:
        setattr(instance, self.slot, self.setting.check(value))
