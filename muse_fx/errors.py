"""Errors users can act on: each message says which file or value, what is wrong, and what to do."""


class MuseFxError(Exception):
    """Base class of every error muse_fx raises on purpose. `command_line`: the message as the CLI words it, where
    its advice differs (flags such as `--model cpu-small`, not Python's `model='cpu-small'`)."""

    command_line: str | None = None

    def __init__(self, *args, command_line: str | None = None):
        super().__init__(*args)
        if command_line is not None:
            self.command_line = command_line


class AudioInputError(MuseFxError, ValueError):
    """The audio handed to muse_fx cannot be processed as given."""


class NonFiniteOutputError(MuseFxError, ArithmeticError):
    """An effect or the model turned finite audio into NaN or infinite samples; nothing with them is written."""


class DeviceUnavailableError(MuseFxError, RuntimeError):
    """A device was asked for by name but this machine does not have it."""


class ModelError(MuseFxError):
    """A model could not be found, verified or loaded."""


class PresetError(MuseFxError, ValueError):
    """A preset file is missing or does not describe a valid chain."""


class SettingError(MuseFxError, ValueError):
    """An enhancement setting outside what its declaration (muse_fx.settings) accepts."""


class TrainingConfigError(MuseFxError, ValueError):
    """A training config, or the data it names, is missing or invalid."""


class MuseFxWarning(UserWarning):
    """Something the user should know that did not stop the work; the CLI prints these as one plain line."""


def install_hint(extra: str = "") -> str:
    """Where and how to install muse_fx (with `extra`): from a clone of it, as the README does. It is not on PyPI,
    so installing it by name finds nothing."""
    target = f'".[{extra}]"' if extra else "."
    return f"in your clone of muse_fx: pip install -c constraints.txt -e {target}"


def on_the_command_line(error: BaseException) -> str:
    """The error's message as the CLI prints it: in the command line's words where it has them."""
    return getattr(error, "command_line", None) or str(error)


def printable(text: str) -> str:
    """`text` with the stray bytes of a non-UTF-8 file name shown as �, for output that must be valid UTF-8."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
