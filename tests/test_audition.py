"""`muse-fx audition`: the variants it renders, the page it writes, and that page run in headless Chromium."""

import base64
import io
import json
import math
import os
import re
import shlex
import shutil
import threading
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import scipy.stats
import soundfile as sf
from click.testing import CliRunner

from muse_fx.audition.page import matching_gains
from muse_fx.audition.render import EXCERPT_CAP, read_excerpt
from muse_fx.audition.serve import page_server, page_url
from muse_fx.audition.summarise import read_ratings, summarise
from muse_fx.audition.variants import Variant, default_plan, plan
from muse_fx.cli import main

RATE = 22050
ARTIFACTS = Path(os.environ.get("MUSE_FX_TEST_ARTIFACTS", Path(__file__).parents[1] / "test-artifacts")) / "audition"


def write_take(path, seconds=3.0, rate=RATE, channels=2):
    """A plucked 220 Hz tone with overtones up to 8 kHz and a little noise: something to hear and to low-pass."""
    t = np.arange(int(seconds * rate)) / rate
    tone = sum(np.sin(2 * np.pi * 220 * k * t) / k for k in range(1, 37)) * np.exp(-3 * (t % 0.75))
    noise = 0.01 * np.random.default_rng(0).standard_normal(t.size)
    mono = 0.2 * tone + noise
    sf.write(str(path), np.stack([mono, 0.7 * mono][:channels], axis=1), rate, subtype="PCM_16")
    return path


def run_cli(*args):
    return CliRunner().invoke(main, [str(arg) for arg in args], catch_exceptions=False)


def audition(source, out, *args, model):
    result = run_cli("audition", source, "--out", out, "--no-open", "--model", model, *args)
    assert result.exit_code == 0, result.output
    return out


def page_data(folder: Path) -> dict:
    text = (folder / "data.js").read_text()
    return json.loads(text.removeprefix("window.AUDITION = ").rstrip().removesuffix(";"))


def item_audio(folder: Path, item: dict) -> tuple[np.ndarray, int]:
    """The WAV a page item embeds, decoded as the browser gets it: (samples, channels)."""
    script = (folder / item["audio"]).read_text()
    encoded = re.fullmatch(r'.*\["' + item["id"] + r'"\] = "([A-Za-z0-9+/=]+)";\n', script, re.DOTALL).group(1)
    audio, rate = sf.read(io.BytesIO(base64.b64decode(encoded)), always_2d=True)
    return audio, rate


@pytest.fixture(scope="module")
def take(tmp_path_factory):
    return write_take(tmp_path_factory.mktemp("take") / "take.wav")


@pytest.fixture(scope="module")
def open_page(take, tiny_model_path):
    return audition(
        take, take.parent / "open", "--presets", "gentle,phone-recording", "--start", "0.25", model=tiny_model_path
    )


BLIND = ("--presets", "gentle", "--mix", "0.5,1", "--blind", "--shuffle-seed", "7")


@pytest.fixture(scope="module")
def blind_page(take, tiny_model_path):
    return audition(
        take,
        take.parent / "blind",
        *BLIND,
        model=tiny_model_path,
    )


# --- variants ---------------------------------------------------------------------------------------------


def test_plan_crosses_presets_with_swept_settings_without_repeats():
    variants = plan(["gentle", "phone-recording", "gentle"], {"mix": [0.5, 1.0]})
    assert [v.name for v in variants] == [
        "gentle · mix 0.5",
        "gentle · mix 1",
        "phone-recording · mix 0.5",
        "phone-recording · mix 1",
    ]
    assert [v.name for v in plan([None], {})] == ["default"]
    assert Variant().command(Path("t.wav"), {}, 0.0, None) == "muse-fx enhance t.wav -o t_default.wav"
    assert [v.name for v in default_plan(["gentle"])] == ["gentle", "strength 0.5", "strength 1"]


def test_command_prints_every_setting_exactly():
    variant = Variant("gentle", (("mix", 0.123456789),))
    command = variant.command(Path("in dir/take.wav"), {"model": "m.safetensors", "device": None}, 1 / 3, 2.5)
    assert shlex.split(command) == [
        "muse-fx",
        "enhance",
        "in dir/take.wav",
        "--preset",
        "gentle",
        "--model",
        "m.safetensors",
        "--mix",
        "0.123456789",
        "--start",
        repr(1 / 3),
        "--duration",
        "2.5",
        "-o",
        "in dir/take_gentle-mix-0-123456789.wav",
    ]


def test_matching_gains_only_cut_and_leave_silence_alone():
    assert matching_gains([-14.0, -20.0, -float("inf"), -17.0]) == [-6.0, 0.0, 0.0, -3.0]


def test_default_excerpt_is_capped_and_explicit_span_is_read(tmp_path):
    long = write_take(tmp_path / "long.wav", seconds=EXCERPT_CAP + 2, rate=8000, channels=1)
    assert read_excerpt(long, 1.0, None).duration == EXCERPT_CAP
    excerpt = read_excerpt(long, 31.0, None)
    assert (excerpt.duration, excerpt.audio.shape) == (1.0, (1, 8000))
    assert read_excerpt(long, 2.0, 0.75).audio.shape == (1, 6000)


# --- the page's files -------------------------------------------------------------------------------------


def referenced_files(folder: Path) -> list[str]:
    html = (folder / "index.html").read_text()
    data = page_data(folder)
    pictures = [item["picture"]["path"] for item in data["items"] if item["picture"]]
    return re.findall(r'(?:src|href)="(?!data:)([^"#]+)"', html) + [item["audio"] for item in data["items"]] + pictures


@pytest.mark.parametrize("which", ["open_page", "blind_page"])
def test_every_referenced_file_is_in_the_folder(which, request):
    folder = request.getfixturevalue(which)
    references = referenced_files(folder)
    assert {"data.js", "audition.js", "audition.css"} <= set(references)
    for reference in references:
        assert "//" not in reference and not reference.startswith("/"), reference
        assert (folder / reference).is_file(), reference
    assert not [p.name for p in folder.parent.iterdir() if p.name.startswith(".")]  # no staging debris


def test_open_page_lists_original_then_variants_with_their_commands(open_page, tiny_model_path):
    items = page_data(open_page)["items"]
    assert [item["label"] for item in items] == ["original", "gentle", "phone-recording"]
    assert items[0]["command"] is None
    assert items[1]["command"].endswith(
        f"--preset gentle --model {tiny_model_path} --start 0.25 -o {open_page.parent / 'take_gentle.wav'}"
    )
    assert items[2]["preset_path"].endswith("phone-recording-2.toml")  # phone-recording.toml would shadow it
    audio, rate = item_audio(open_page, items[0])
    assert rate == RATE and audio.shape == (3 * RATE - round(0.25 * RATE), 2)


def test_command_and_preset_snippet_reproduce_the_variant(open_page, tmp_path, monkeypatch):
    item = page_data(open_page)["items"][2]
    heard, _ = item_audio(open_page, item)
    arguments = shlex.split(item["command"])
    output = Path(arguments[arguments.index("-o") + 1])
    assert run_cli(*arguments[1:]).exit_code == 0
    assert np.abs(sf.read(str(output), always_2d=True)[0] - heard).max() <= 1 / 32768
    preset = tmp_path / "mine.toml"
    preset.write_text(item["preset_toml"])
    monkeypatch.chdir(tmp_path)
    source = arguments[2]
    result = run_cli("enhance", source, "--preset", preset, "--start", "0.25", "-o", "again.wav")
    assert result.exit_code == 0, result.output
    assert np.abs(sf.read("again.wav", always_2d=True)[0] - heard).max() <= 1 / 32768


def test_gains_bring_every_take_to_the_same_loudness(open_page):
    items = page_data(open_page)["items"]
    matched = []
    for item in items:
        audio, rate = item_audio(open_page, item)
        loudness = pyloudnorm.Meter(rate).integrated_loudness(audio)
        assert loudness == pytest.approx(item["loudness"], abs=1e-6)
        matched.append(loudness + item["gain_db"])
        assert item["gain_db"] <= 0
    assert max(matched) - min(matched) < 1e-6


def test_blind_page_hides_names_and_adds_hidden_reference_and_anchor(blind_page, take, tiny_model_path, tmp_path):
    data = page_data(blind_page)
    items = data["items"]
    assert [item["label"] for item in items] == ["reference"] + [f"item {n}" for n in range(1, 5)]
    assert all(item["command"] is None and item["preset_toml"] is None for item in items)
    assert [item["picture"] is not None for item in items] == [True, False, False, False, False]
    names = [data["names"][item["id"]] for item in items]
    assert names[0] == "original"
    assert sorted(names[1:]) == ["anchor (3.5 kHz low-pass)", "gentle · mix 0.5", "gentle · mix 1", "hidden reference"]
    assert not any(name in json.dumps(items) for name in names[1:])
    hidden = item_audio(blind_page, items[names.index("hidden reference")])[0]
    assert np.array_equal(hidden, item_audio(blind_page, items[0])[0])
    anchor = item_audio(blind_page, items[names.index("anchor (3.5 kHz low-pass)")])[0][:, 0]
    spectrum = np.abs(np.fft.rfft(anchor)) ** 2
    above = np.fft.rfftfreq(anchor.size, 1 / RATE) > 5000
    assert spectrum[above].sum() < 1e-4 * spectrum.sum()
    again = audition(
        take,
        tmp_path / "again",
        *BLIND,
        model=tiny_model_path,
    )
    assert page_data(again)["names"] == data["names"]  # the seed fixes the order


def test_suggested_preset_names_shadow_no_preset(open_page, monkeypatch, tmp_path):
    """Saving "gentle" as suggested hid the bundled gentle behind the copy (issue 25); a saved one was overwritten."""
    from muse_fx.presets.files import available, unused_name, user_dir

    suggested = [Path(item["preset_path"]) for item in page_data(open_page)["items"] if item["preset_path"]]
    assert [path.stem for path in suggested] == ["gentle-2", "phone-recording-2"]
    assert not {path.stem for path in suggested} & set(available())
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    user_dir().mkdir(parents=True)
    (user_dir() / "gentle-2.toml").write_text("")
    assert unused_name("gentle") == "gentle-3" and unused_name("mine") == "mine"


def test_the_blind_picture_says_it_is_the_references(take, tiny_model_path, tmp_path, monkeypatch):
    """It was labelled "original" while any item played (issue 25)."""
    from muse_fx.audition import page

    drawn, draw = [], page.picture

    def picture(panels, *args):
        drawn.append((list(panels), args[-1]))  # the labels and the title
        return draw(panels, *args)

    monkeypatch.setattr(page, "picture", picture)
    audition(take, tmp_path / "blind", "--presets", "gentle", "--blind", model=tiny_model_path)
    assert drawn == [(["reference (key 0)"], page.BLIND_PICTURE_TITLE)]


# --- bad input, and nothing lost ------------------------------------------------------------------------


def test_existing_folders_are_never_clobbered(take, open_page, tiny_model_path, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    args = ["audition", take, "--presets", "gentle", "--no-open", "--model", tiny_model_path, "--out"]
    result = run_cli(*args, mine)
    assert result.exit_code == 1 and "not empty; pass --overwrite" in result.output
    result = run_cli(*args, mine, "--overwrite")
    assert result.exit_code == 1 and "not an audition page" in result.output
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    page = tmp_path / "page"
    shutil.copytree(open_page, page)
    assert run_cli(*args, page, "--overwrite").exit_code == 0
    assert [item["label"] for item in page_data(page)["items"]] == ["original", "gentle"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "page"]


def test_a_failing_render_leaves_no_debris(take, tiny_model_path, tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text('[[plugin]]\ntype = "Reverb"\nroom_size = "big"\n')
    result = run_cli(
        "audition",
        take,
        "--presets",
        f"gentle,{broken}",
        "--out",
        tmp_path / "page",
        "--no-open",
        "--model",
        tiny_model_path,
    )
    assert result.exit_code == 1 and "broken.toml" in result.output and "Reverb" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.toml"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--start", "2.8"], "audition needs at least 0.5 s"),
        (["--start", "9"], "lies outside the file"),
        (["--mix", "0.5,2"], "'2' is not a number from 0 to 1"),
        (["--presets", "nope"], "unknown preset 'nope'"),
        (["--presets", "gentle,mine.toml"], "preset file mine.toml does not exist"),
        (["--duration", "0.1"], "0.1 is not in the range 0.5<=x<=300"),
    ],
)
def test_bad_options_get_one_line_messages(take, tmp_path, args, message):
    result = run_cli("audition", take, "--out", tmp_path / "page", "--no-open", *args)
    assert result.exit_code != 0 and message in result.output, result.output
    assert "Traceback" not in result.output and not (tmp_path / "page").exists()


def test_strength_is_one_more_swept_setting(take, tiny_model_path, tmp_path):
    page = audition(take, tmp_path / "page", "--presets", "gentle", "--strength", "0.5,1", model=tiny_model_path)
    items = page_data(page)["items"]
    assert [item["label"] for item in items] == ["original", "gentle · strength 0.5", "gentle · strength 1"]
    assert "--preset gentle --model" in items[1]["command"] and "--strength 0.5" in items[1]["command"]
    assert "strength = 0.5" in items[1]["preset_toml"]
    assert not np.array_equal(item_audio(page, items[1])[0], item_audio(page, items[2])[0])


def test_two_inputs_need_summarise(take):
    result = run_cli("audition", take, take, "--no-open")
    assert result.exit_code == 2 and "one INPUT" in result.output


def test_opens_the_page_or_serves_it_until_ctrl_c(take, tiny_model_path, tmp_path, monkeypatch):
    import webbrowser
    from http.server import ThreadingHTTPServer

    opened = []
    monkeypatch.setattr(webbrowser, "open", opened.append)
    args = ["audition", take, "--presets", "gentle", "--model", tiny_model_path, "--out"]
    assert run_cli(*args, tmp_path / "a").exit_code == 0
    assert opened == [(tmp_path / "a" / "index.html").as_uri()]

    def interrupted(server):
        opened.append(server.server_address[0])
        raise KeyboardInterrupt

    monkeypatch.setattr(ThreadingHTTPServer, "serve_forever", interrupted)
    result = run_cli(*args, tmp_path / "b", "--serve")
    assert result.exit_code == 0 and "stopped" in result.output
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/index\.html", opened[1]) and opened[2] == "127.0.0.1"


# --- ratings ----------------------------------------------------------------------------------------------


def write_ratings(folder: Path, rows: list[dict]) -> list[Path]:
    paths = []
    for number, ratings in enumerate(rows):
        path = folder / f"ratings-{number}.json"
        path.write_text(json.dumps({"page_id": "p", "listener": str(number), "ratings": ratings}))
        paths.append(path)
    return paths


def test_summarise_prints_means_with_t_confidence_intervals(tmp_path):
    scores = [80, 90, 70, 85]
    paths = write_ratings(tmp_path, [{"a": s, "anchor": 10} for s in scores] + [{"lonely": 50}])
    rows = summarise(read_ratings(paths))
    assert [row.name for row in rows] == ["a", "lonely", "anchor"]
    half = scipy.stats.t.ppf(0.975, 3) * np.std(scores, ddof=1) / 2
    assert rows[0].mean == pytest.approx(81.25) and rows[0].half_width == pytest.approx(half)
    assert rows[2].half_width == 0 and math.isnan(rows[1].half_width)
    result = run_cli("audition", "--summarise", *paths)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert "95% CI" in lines[0]
    assert lines[1].split()[:3] == ["a", "4", "81.2"] and f"±{half:5.1f}" in lines[1]
    assert lines[2].split()[-1] == "—"


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "is not JSON"),
        ('{"ratings": {}}', 'has no "ratings" object'),
        ('{"ratings": {"a": 101}}', "the rating of 'a' is 101; ratings are numbers from 0 to 100"),
    ],
)
def test_summarise_names_the_bad_file(tmp_path, content, message):
    (tmp_path / "bad.json").write_text(content)
    result = run_cli("audition", "--summarise", tmp_path / "bad.json")
    assert result.exit_code == 1 and "bad.json" in result.output and message in result.output


# --- in the browser ---------------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def missing_browser() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright's Python package is not installed (pip install -e '.[test]')"
    if not Path(CHROMIUM).is_file():
        return "Debian's chromium is not installed (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def browser(request):
    reason = missing_browser()
    if reason and os.environ.get("MUSE_FX_REQUIRE_CHROMIUM") == "1":
        pytest.fail(f"MUSE_FX_REQUIRE_CHROMIUM=1 but {reason}")
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter and capture:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\ntest_audition: screenshots of the page are in {ARTIFACTS}")


class Tab:
    """A page in Chromium that records console errors and every URL it asks for."""

    def __init__(self, browser, url: str, downloads: bool = False):
        self.context = browser.new_context(viewport={"width": 1000, "height": 1000}, accept_downloads=downloads)
        self.page = self.context.new_page()
        self.errors, self.requests = [], []
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.goto(url)
        self.page.wait_for_function("window.audition && window.audition.state().ready", timeout=30_000)

    def state(self) -> dict:
        return self.page.evaluate("window.audition.state()")

    def wait_until_playing_past(self, seconds: float) -> None:
        self.page.wait_for_function(f"window.audition.state().position > {seconds}", timeout=10_000)

    def screenshot(self, name: str) -> None:
        self.page.screenshot(path=str(ARTIFACTS / name), full_page=True)

    def close(self):
        self.context.close()


@pytest.fixture
def open_tab(browser, open_page):
    tab = Tab(browser, (open_page / "index.html").as_uri())
    yield tab
    tab.close()


def test_page_loads_from_file_with_no_console_errors_and_nothing_remote(open_tab, open_page):
    assert open_tab.errors == []
    assert all(url.startswith(("file://", "blob:", "data:")) for url in open_tab.requests), open_tab.requests
    assert open_tab.page.locator(".take").count() == 3
    assert open_tab.page.locator("#command").inner_text() == ""  # the original has no command
    open_tab.page.keyboard.press("2")
    assert "--preset phone-recording" in open_tab.page.locator("#command").inner_text()
    # the new picture loads asynchronously after the switch; wait for it rather than race it
    open_tab.page.wait_for_function(
        "() => { const image = document.getElementById('picture-image');"
        " return image.complete && image.naturalWidth > 0; }",
        timeout=10_000,
    )
    open_tab.screenshot("open-page.png")
    assert open_tab.errors == []


def test_keys_switch_source_and_keep_the_position(open_tab):
    page = open_tab.page
    page.keyboard.press("Space")
    open_tab.wait_until_playing_past(0.3)
    for key, index in (("1", 1), ("0", 0)):  # well before the 2.75 s loop point
        before = open_tab.state()["position"]
        page.keyboard.press(key)
        after = open_tab.state()
        assert (after["current"], after["sounding"], after["playing"]) == (index, index, True)
        assert before <= after["lastSwitch"]["at"] <= after["position"] < before + 0.5
        time.sleep(0.2)
    page.keyboard.press("Space")
    paused = open_tab.state()
    assert not paused["playing"]
    page.keyboard.press("2")
    assert open_tab.state()["current"] == 2 and open_tab.state()["position"] == paused["position"]
    assert open_tab.errors == []


def test_loudness_matching_gains_are_applied(open_tab, open_page):
    expected = [10 ** (item["gain_db"] / 20) for item in page_data(open_page)["items"]]
    assert open_tab.state()["gains"] == pytest.approx(expected, rel=1e-6)
    shown = open_tab.page.locator(".take .gain").all_inner_texts()
    assert shown == [f"gain {round(item['gain_db'], 1) + 0:.1f} dB" for item in page_data(open_page)["items"]]  # ≤ 0


def test_a_cut_too_small_to_show_reads_zero_not_minus_zero(browser, open_page, tmp_path):
    folder = tmp_path / "page"
    shutil.copytree(open_page, folder)
    data = page_data(folder)
    for item, gain in zip(data["items"], (-0.04, -1.26, 0.0)):
        item["gain_db"] = gain
    (folder / "data.js").write_text(f"window.AUDITION = {json.dumps(data)};\n")
    tab = Tab(browser, (folder / "index.html").as_uri())
    assert tab.page.locator(".take .gain").all_inner_texts() == ["gain 0.0 dB", "gain -1.3 dB", "gain 0.0 dB"]
    tab.close()


def test_blind_ratings_download_as_json(browser, blind_page, tmp_path):
    tab = Tab(browser, (blind_page / "index.html").as_uri(), downloads=True)
    page = tab.page
    assert page.locator("#download").is_disabled()
    assert set(page.locator(".take .gain").all_inner_texts()) == {""}  # the hidden reference's gain would tell
    scores = [95, 20, 70, 55]
    for slider, score in zip(page.locator("input.score").all(), scores):
        slider.evaluate("(slider, score) => { slider.value = score; slider.dispatchEvent(new Event('input')); }", score)
    page.locator("#listener").fill("ab")
    page.keyboard.press("3")  # typing a digit into the name field must not switch
    assert tab.state()["current"] == 0 and page.locator("#listener").input_value() == "ab3"
    page.locator("#listener").fill("ab")
    tab.screenshot("blind-page.png")
    with page.expect_download() as download:
        page.locator("#download").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    record = json.loads(saved.read_text())
    data = page_data(blind_page)
    names = [data["names"][item["id"]] for item in data["items"][1:]]
    assert record["ratings"] == dict(zip(names, scores)) and record["order"] == names
    assert (record["page_id"], record["listener"], record["shuffle_seed"]) == (data["page_id"], "ab", 7)
    assert datetime.fromisoformat(record["timestamp"].replace("Z", "+00:00")).year >= 2024
    assert saved.name == f"ratings-{data['page_id']}-ab.json"
    assert tab.errors == []
    tab.close()
    result = run_cli("audition", "--summarise", saved)
    assert result.exit_code == 0 and "hidden reference" in result.output


def test_served_page_plays_over_http(browser, open_page):
    server = page_server(open_page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert page_url(server).startswith("http://127.0.0.1:")
        tab = Tab(browser, page_url(server))
        tab.page.keyboard.press("Space")
        tab.wait_until_playing_past(0.1)
        assert tab.errors == [] and tab.state()["contextState"] == "running"
        tab.close()
    finally:
        server.shutdown()
        server.server_close()


def test_the_pages_folder_is_checked_as_an_output_files_is_with_the_option_to_change(tmp_path, monkeypatch):
    from muse_fx.audition.page import staged_folder
    from muse_fx.io.audio_files import OutputError

    with pytest.raises(OutputError, match=f"folder {tmp_path / 'missing'} does not exist; create it first$"):
        with staged_folder(tmp_path / "missing" / "page", overwrite=False):
            pass
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(OutputError, match=f"folder {tmp_path} is not writable; choose another --out$"):
        with staged_folder(tmp_path / "page", overwrite=False):
            pass
    assert list(tmp_path.iterdir()) == []
