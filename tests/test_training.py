"""Training end to end on the tiny preset and synthetic tones: every mode, resume, curves, export, registry."""

import dataclasses
import tomllib
from pathlib import Path

import pytest
import tomli_w
import torch
from click.testing import CliRunner

from muse_fx.cli import main
from muse_fx.cli.train import train
from muse_fx.engine.model_config import FULL_BAND, TINY, ModelConfig
from muse_fx.engine.muse_model import MuseModel
from muse_fx.engine.weights import load_model, sha256_of
from muse_fx.training.train_config import MODEL_SIZES, load_config


def _train(mode, run_dir, *extra):
    result = CliRunner().invoke(train, [mode, "--config", "tiny", "--run-dir", str(run_dir), *extra])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    _train("both", run)
    return run


def test_tiny_run_writes_checkpoint_curves_and_validation_audio(trained):
    assert (trained / "checkpoint.pt").exists() and (trained / "best.pt").exists()
    assert {p.name for p in trained.glob("checkpoint-*.pt")} == {"checkpoint-2.pt", "checkpoint-4.pt"}
    assert (trained / "losses.png").stat().st_size > 0
    names = {line.split(",")[2] for line in (trained / "losses.csv").read_text().splitlines()[1:]}
    assert {"g_l1", "g_fast", "diffusion", "mel_l1_fast", "mel_l1_input"} <= names
    assert {p.name for p in (trained / "validation").iterdir()} >= {
        "degraded.wav",
        "clean.wav",
        "fast.wav",
        "diffusion.wav",
    }


def test_resume_continues_from_the_saved_step(trained, tmp_path):
    run = tmp_path / "resumed"
    run.mkdir()
    (run / "checkpoint.pt").write_bytes((trained / "checkpoint.pt").read_bytes())
    output = _train("both", run, "--steps", "6", "--lr", "1e-5")
    assert "resumed from" in output and "step 4" in output
    state = torch.load(run / "checkpoint.pt", weights_only=False)
    assert state["step"] == 6
    assert state["optimisers"]["mel2mel"]["param_groups"][0]["lr"] == 1e-5


def test_a_run_keeps_its_validation_examples_across_restarts(trained, tmp_path):
    """A corpus that grows between restarts (a render still writing) must not change what best.pt is judged on."""
    from muse_fx.training.trainer import Trainer

    pinned = torch.load(trained / "validation_set.pt")
    grown = {name: examples * 0.5 for name, examples in pinned.items()}  # stands in for a different draw
    torch.save(grown, tmp_path / "validation_set.pt")
    degraded, clean = Trainer(load_config("tiny", {}, None), "mel2mel", tmp_path).validation
    assert torch.equal(degraded, grown["degraded"]) and torch.equal(clean, grown["clean"])


@pytest.mark.parametrize("mode", ["mel2mel", "musecoder", "joint"])
def test_each_mode_takes_a_step(mode, tmp_path):
    output = _train(mode, tmp_path / mode, "--steps", "1")
    assert "step 1" in output


def test_zero_steps_scores_and_saves_the_starting_point(trained, tmp_path):
    """`--init X --steps 0` is how a run's step 0 is exported and evaluated beside its later checkpoints."""
    output = _train("mel2mel", tmp_path / "zero", "--init", str(trained / "checkpoint.pt"), "--steps", "0")
    assert "validation @ 0" in output
    assert torch.load(tmp_path / "zero" / "checkpoint.pt", weights_only=False)["step"] == 0


def test_joint_mode_updates_both_networks(trained, tmp_path):
    before = torch.load(trained / "checkpoint.pt", weights_only=False)["model"]
    _train("joint", tmp_path / "joint", "--init", str(trained / "checkpoint.pt"), "--steps", "1")
    after = torch.load(tmp_path / "joint" / "checkpoint.pt", weights_only=False)["model"]
    for prefix in ("mel2mel.", "musecoder."):
        assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith(prefix)), prefix


def test_export_writes_loadable_fp16_weights_and_a_registry_entry(trained, tmp_path):
    args = [
        str(trained / "checkpoint.pt"),
        "--name",
        "tiny-test",
        "--version",
        "0.1",
        "--fp16",
        "--out-dir",
        str(tmp_path),
        "--default",
        "--hardware",
        "test",
    ]
    result = CliRunner().invoke(train, ["export", *args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    registry = tomllib.loads((tmp_path / "registry.toml").read_text())
    assert registry["default"] == "tiny-test"
    (entry,) = registry["model"]
    path = tmp_path / entry["file"]
    assert entry["sha256"] == sha256_of(path) and entry["sample_rate"] == 16000
    assert ModelConfig.from_dict(entry["config"]) == MODEL_SIZES["tiny"]
    assert {"recipe", "date", "hardware", "card", "version"} <= set(entry)
    model = load_model(path)
    assert next(model.parameters()).dtype == torch.float32  # fp16 on disk, float32 to run
    with torch.inference_mode():
        assert model.mel2mel(torch.zeros(1, 1, 128, 16)).shape == (1, 1, 128, 16)


def test_config_rejects_unknown_keys(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[train]\nstepz = 3\n")
    with pytest.raises(ValueError, match="stepz"):
        load_config(bad)


def test_bundled_configs_parse():
    for name in ("tiny", "cpu_small"):
        assert load_config(name).model == MODEL_SIZES[name]


def test_export_joins_mel2mel_and_musecoder_from_two_runs(trained, tmp_path):
    _train("musecoder", tmp_path / "mc", "--steps", "1")
    other = torch.load(tmp_path / "mc" / "checkpoint.pt", weights_only=False)["model"]
    args = [
        str(trained / "checkpoint.pt"),
        "--name",
        "joined",
        "--version",
        "0.1",
        "--out-dir",
        str(tmp_path),
        "--musecoder",
        str(tmp_path / "mc" / "checkpoint.pt"),
    ]
    result = CliRunner().invoke(train, ["export", *args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    model = load_model(tmp_path / "joined-0.1.safetensors")
    own = torch.load(trained / "checkpoint.pt", weights_only=False)["model"]
    state = model.state_dict()
    assert torch.equal(state["musecoder.input_projection.weight"], other["musecoder.input_projection.weight"])
    assert torch.equal(state["mel2mel.net.1.weight"], own["mel2mel.net.1.weight"])


def test_re_export_keeps_the_measured_default_musecoder_of_the_entry_it_replaces(trained, tmp_path):
    args = [str(trained / "checkpoint.pt"), "--name", "m", "--out-dir", str(tmp_path)]
    assert CliRunner().invoke(train, ["export", *args, "--version", "0.1"]).exit_code == 0
    registry = tmp_path / "registry.toml"
    data = tomllib.loads(registry.read_text())
    data["model"][0]["default_musecoder"] = {"cpu": "fast"}
    registry.write_text(tomli_w.dumps(data))
    result = CliRunner().invoke(train, ["export", *args, "--version", "0.2"])
    assert result.exit_code == 0 and "kept the previous m entry's default_musecoder" in result.output
    (entry,) = tomllib.loads(registry.read_text())["model"]
    assert entry["version"] == "0.2" and entry["default_musecoder"] == {"cpu": "fast"}


def test_average_of_checkpoints_is_the_mean_of_their_weights(trained, tmp_path):
    _train("mel2mel", tmp_path / "other", "--steps", "1")
    paths = [trained / "checkpoint.pt", tmp_path / "other" / "checkpoint.pt"]
    result = CliRunner().invoke(train, ["average", str(tmp_path / "avg.pt"), *map(str, paths)])
    assert result.exit_code == 0, result.output + repr(result.exception)
    states = [torch.load(p, weights_only=False)["model"] for p in [*paths, tmp_path / "avg.pt"]]
    key = "mel2mel.net.1.weight"
    assert torch.allclose(states[2][key], (states[0][key] + states[1][key]) / 2)


def test_data_paths_are_relative_to_the_data_folder(tmp_path, monkeypatch):
    from muse_fx.training.train_config import check_data

    monkeypatch.delenv("MUSE_FX_DATA", raising=False)
    relative = load_config("full_band")
    assert relative.data.clean == "clean"
    with pytest.raises(ValueError, match="--data FOLDER or set MUSE_FX_DATA"):
        check_data(relative)
    monkeypatch.setenv("MUSE_FX_DATA", str(tmp_path))
    config = load_config("full_band")
    assert config.data.clean == str(tmp_path / "clean") and config.data.rirs == str(tmp_path / "rirs.pt")
    assert load_config("full_band", data=tmp_path / "other").data.babble == str(tmp_path / "other" / "babble.pt")
    with pytest.raises(ValueError, match=r"clean data .* does not exist; make it with `muse-fx data render"):
        check_data(config)


def test_train_cli_names_a_missing_config_and_missing_data(tmp_path):
    run = ["train", "mel2mel", "--run-dir", str(tmp_path / "r")]
    result = CliRunner().invoke(main, [*run, "--config", "nope"])
    assert result.exit_code == 1 and "no training config 'nope'" in result.output and "full_band" in result.output
    result = CliRunner().invoke(main, [*run, "--config", "full_band", "--data", str(tmp_path)])
    assert result.exit_code == 1 and "muse-fx data render" in result.output
    assert not (tmp_path / "r").exists()


def test_an_init_that_does_not_fit_the_preset_is_named_and_leaves_no_run_folder(trained, tmp_path):
    export = ["export", str(trained / "checkpoint.pt"), "--name", "t", "--version", "1", "--no-registry"]
    assert CliRunner().invoke(train, [*export, "--out-dir", str(tmp_path)]).exit_code == 0
    config = tmp_path / "paper.toml"
    config.write_text('[model]\npreset = "paper"\n')  # paper-size layers: 9 blocks, where tiny has 1
    run = ["train", "mel2mel", "--config", str(config), "--run-dir", str(tmp_path / "r")]
    result = CliRunner().invoke(main, [*run, "--init", str(tmp_path / "t-1.safetensors")])
    assert result.exit_code == 1 and "t-1.safetensors" in result.output and "same layers" in result.output
    assert not (tmp_path / "r").exists()


def test_the_discriminator_learns_at_its_own_scaled_rate(tmp_path):
    """A discriminator that overpowers the generator is slowed by `discriminator_lr_scale`, also on resume."""
    from muse_fx.training.trainer import Trainer

    config = load_config("tiny", {"lr": 1e-3, "discriminator_lr_scale": 0.25}, None)
    trainer = Trainer(config, "mel2mel", tmp_path)
    rates = {name: opt.param_groups[0]["lr"] for name, opt in trainer.optimisers.items()}
    assert rates["mel2mel"] == 1e-3 and rates["discriminator"] == 2.5e-4


def test_the_moving_average_of_mel2mel_is_validated_kept_on_resume_and_exported(tmp_path):
    """With `ema_decay`, each mel2mel update moves the average; checkpoints, resume and export carry it."""
    from muse_fx.training.checkpoint import model_from_checkpoint, save_checkpoint
    from muse_fx.training.trainer import Trainer

    config = load_config("tiny", {"ema_decay": 0.5}, None)
    trainer = Trainer(config, "mel2mel", tmp_path / "run")
    key = "net.1.weight"
    live = []
    for _ in range(3):
        trainer.train_step()
        live.append(trainer.model.mel2mel.state_dict()[key].clone())
    expected = live[0]  # the first update copies the weights, each later one moves halfway to them
    for weights in live[1:]:
        expected = 0.5 * expected + 0.5 * weights
    assert torch.allclose(trainer.generator.state_dict()[key], expected)
    assert not torch.allclose(expected, live[-1])

    save_checkpoint(tmp_path / "checkpoint.pt", trainer.state())
    resumed = Trainer(config, "mel2mel", tmp_path / "run")
    resumed.load(tmp_path / "checkpoint.pt")
    assert torch.equal(resumed.generator.state_dict()[key], expected)
    exported = model_from_checkpoint(tmp_path / "checkpoint.pt").mel2mel.state_dict()[key]
    assert torch.equal(exported, expected)

    trainer.train_step()
    save_checkpoint(tmp_path / "later.pt", trainer.state())
    result = CliRunner().invoke(
        train, ["average", str(tmp_path / "avg.pt"), str(tmp_path / "checkpoint.pt"), str(tmp_path / "later.pt")]
    )
    assert result.exit_code == 0, result.output + repr(result.exception)
    averaged = model_from_checkpoint(tmp_path / "avg.pt").mel2mel.state_dict()[key]
    assert torch.allclose(averaged, (expected + trainer.generator.state_dict()[key]) / 2)


def _split_checkpoint(path: Path, seed: int) -> dict[str, torch.Tensor]:
    """A checkpoint of a tiny two-half generator, as `train mel2mel` writes it → its mel2mel weights."""
    model_config = dataclasses.replace(
        FULL_BAND, mel2mel=dataclasses.replace(TINY.mel2mel, split_band=128, split_context=32)
    )
    torch.manual_seed(seed)
    model = MuseModel(model_config)
    state = {
        "step": seed,
        "mode": "mel2mel",
        "model_config": model_config.to_dict(),
        "train_config": load_config("tiny").to_dict(),
        "model": model.state_dict(),
    }
    torch.save(state, path)
    return model.mel2mel.state_dict()


def test_export_takes_the_high_half_from_another_run_of_the_same_split_preset(tmp_path):
    """Each half of a split generator can come from the recipe that measured best for its bands."""
    low_run = _split_checkpoint(tmp_path / "low.pt", 1)
    high_run = _split_checkpoint(tmp_path / "high.pt", 2)
    args = [str(tmp_path / "low.pt"), "--name", "spliced", "--version", "1", "--out-dir", str(tmp_path)]
    result = CliRunner().invoke(train, ["export", *args, "--high-band", str(tmp_path / "high.pt")])
    assert result.exit_code == 0, result.output + repr(result.exception)
    exported = load_model(tmp_path / "spliced-1.safetensors").mel2mel.state_dict()
    for key, weights in exported.items():
        assert torch.equal(weights, (low_run if key.startswith("low.") else high_run)[key]), key
    assert not torch.equal(low_run["high.net.1.weight"], high_run["high.net.1.weight"])
    assert "high half from muse-fx train mel2mel" in result.output


def test_export_writes_no_folder_of_the_training_machine_into_the_weights(tmp_path):
    """full-band 1.0 shipped with `clean data /work/data44/clean` in its metadata (issue 25): the weights ship."""
    from safetensors import safe_open

    data = tmp_path / "machine-data"
    for name, seed in (("low", 1), ("high", 2)):
        _split_checkpoint(tmp_path / f"{name}.pt", seed)
        state = torch.load(tmp_path / f"{name}.pt", weights_only=False)
        torch.save({**state, "train_config": load_config("full_band", data=data).to_dict()}, tmp_path / f"{name}.pt")
    args = [str(tmp_path / "low.pt"), "--name", "spliced", "--version", "1", "--out-dir", str(tmp_path / "out")]
    result = CliRunner().invoke(train, ["export", *args, "--high-band", str(tmp_path / "high.pt")])
    assert result.exit_code == 0, result.output + repr(result.exception)
    with safe_open(str(tmp_path / "out" / "spliced-1.safetensors"), framework="pt") as f:
        metadata = f.metadata()
    assert str(tmp_path) not in str(metadata) and str(tmp_path) not in (tmp_path / "out" / "registry.toml").read_text()
    assert metadata["recipe"].endswith(
        "data clean (muse-fx data render), rirs.pt (muse-fx data rirs), babble.pt (muse-fx data babble), "
        "degradations drawn on the fly"
    )


def test_export_names_a_file_that_cannot_give_a_high_half(trained, tmp_path):
    _split_checkpoint(tmp_path / "split.pt", 1)
    (tmp_path / "model.safetensors").write_bytes(b"not a checkpoint")
    cases = {
        (tmp_path / "split.pt", tmp_path / "model.safetensors"): "is not a training checkpoint",
        (tmp_path / "split.pt", trained / "checkpoint.pt"): "was trained with a different model config",
        (trained / "checkpoint.pt", trained / "checkpoint.pt"): "has one generator for every band",
    }
    for (checkpoint, high), message in cases.items():
        args = [str(checkpoint), "--name", "x", "--version", "1", "--out-dir", str(tmp_path / "out")]
        result = CliRunner().invoke(main, ["train", "export", *args, "--high-band", str(high)])
        assert result.exit_code != 0 and message in result.output, result.output
        assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_init_from_what_cannot_start_the_preset_is_named_and_leaves_no_run(tmp_path):
    _split_checkpoint(tmp_path / "split.pt", 1)
    (tmp_path / "notes.pt").write_text("not a checkpoint")
    cases = {"split.pt": "was trained with another model config", "notes.pt": "is not a training checkpoint"}
    for name, message in cases.items():
        args = ["--config", "tiny", "--run-dir", str(tmp_path / "run"), "--init", str(tmp_path / name), "--steps", "1"]
        result = CliRunner().invoke(main, ["train", "mel2mel", *args])
        assert result.exit_code != 0 and message in result.output and "--init" in result.output, result.output
        assert "Traceback" not in result.output and not (tmp_path / "run").exists()
