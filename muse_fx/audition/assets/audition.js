/* muse-fx audition: one transport over every take, loudness-matched, switchable at the same position.
 *
 * data.js sets window.AUDITION (written by muse_fx/audition/page.py); each audio/item-NN.js adds one take's WAV,
 * base64, to window.AUDITION_AUDIO, because a page opened from file:// may load scripts but not fetch() files.
 * window.audition.state() is a read-only snapshot for tests and curious listeners.
 */
"use strict";

(() => {
  const FADE_SECONDS = 0.008; // switch and seek crossfade: short enough to feel instant, long enough not to click
  const JUMP_SECONDS = 2;
  const data = window.AUDITION;
  const items = data.items;
  const $ = (id) => document.getElementById(id);

  const player = {
    context: null, buffers: [], matchGains: [], voice: null, wavUrls: [],
    current: 0, playing: false, offset: 0, startedAt: 0, duration: 0, ready: false, lastSwitch: null, dragging: false,
  };
  const ratings = {}; // item id → score 0…100 (blind mode)

  // --- loading ------------------------------------------------------------------------------------------------
  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = () => reject(new Error(`${src} is missing; write the page again with muse-fx audition`));
      document.head.appendChild(script);
    });
  }

  function decodeBase64(text) {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  async function decode(item) {
    const bytes = decodeBase64(window.AUDITION_AUDIO[item.id]);
    delete window.AUDITION_AUDIO[item.id];
    player.wavUrls.push(data.blind ? null : URL.createObjectURL(new Blob([bytes], { type: "audio/wav" })));
    return player.context.decodeAudioData(bytes.buffer);
  }

  async function load() {
    player.context = new AudioContext();
    await Promise.all(items.map((item) => loadScript(item.audio)));
    for (const item of items) player.buffers.push(await decode(item)); // one at a time: bounded memory
    player.matchGains = items.map((item) => {
      const node = new GainNode(player.context, { gain: 10 ** (item.gain_db / 20) });
      node.connect(player.context.destination);
      return node;
    });
    player.duration = Math.min(...player.buffers.map((buffer) => buffer.duration));
    player.ready = true;
  }

  // --- transport ----------------------------------------------------------------------------------------------
  function position() {
    if (!player.playing) return player.offset;
    return (player.offset + player.context.currentTime - player.startedAt) % player.duration;
  }

  function startVoice(index, at) {
    const context = player.context;
    const now = context.currentTime;
    const source = new AudioBufferSourceNode(context, { buffer: player.buffers[index], loop: true });
    const fade = new GainNode(context, { gain: 0 });
    source.connect(fade).connect(player.matchGains[index]);
    source.onended = () => fade.disconnect();
    fade.gain.setValueAtTime(0, now);
    fade.gain.linearRampToValueAtTime(1, now + FADE_SECONDS);
    source.start(now, at);
    player.voice = { source, fade };
    player.offset = at;
    player.startedAt = now;
  }

  function stopVoice() {
    const voice = player.voice;
    const now = player.context.currentTime;
    voice.fade.gain.cancelScheduledValues(now);
    voice.fade.gain.setValueAtTime(voice.fade.gain.value, now);
    voice.fade.gain.linearRampToValueAtTime(0, now + FADE_SECONDS);
    voice.source.stop(now + FADE_SECONDS);
    player.voice = null;
  }

  async function togglePlay() {
    if (!player.ready) return;
    if (player.playing) {
      player.offset = position();
      stopVoice();
      player.playing = false;
    } else {
      await player.context.resume();
      startVoice(player.current, player.offset);
      player.playing = true;
    }
    $("play").textContent = player.playing ? "Pause" : "Play";
  }

  function seek(seconds) {
    if (!player.ready) return;
    const at = Math.min(Math.max(seconds, 0), player.duration - 1e-3);
    if (player.playing) {
      stopVoice();
      startVoice(player.current, at);
    } else {
      player.offset = at;
    }
  }

  function select(index) {
    if (!player.ready || index < 0 || index >= items.length || index === player.current) return;
    const at = position();
    if (player.playing) {
      stopVoice();
      startVoice(index, at);
    } else {
      player.offset = at;
    }
    player.lastSwitch = { from: player.current, to: index, at };
    player.current = index;
    showSelection();
  }

  // --- page ---------------------------------------------------------------------------------------------------
  function clock(seconds) {
    const minutes = Math.floor(seconds / 60);
    return `${minutes}:${(seconds - 60 * minutes).toFixed(1).padStart(4, "0")}`;
  }

  function decibels(value) {
    const shown = Math.round(value * 10) / 10 || 0; // a cut under 0.05 dB shows as 0.0, not -0.0
    return `${shown > 0 ? "+" : ""}${shown.toFixed(1)} dB`;
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function ratingSlider(item) {
    const slider = element("input", "score");
    Object.assign(slider, { type: "range", min: 0, max: 100, step: 1, value: 50 });
    slider.setAttribute("aria-label", `Rating of ${item.label}`);
    slider.dataset.item = item.id;
    const shown = element("span", "score-value", "unrated");
    slider.addEventListener("input", () => {
      ratings[item.id] = Number(slider.value);
      shown.textContent = slider.value;
      showRatingState();
    });
    return [slider, shown];
  }

  function buildTakes() {
    const list = $("takes");
    items.forEach((item, index) => {
      const row = element("div", "take");
      row.dataset.index = index;
      const loudness = item.loudness === null ? "silent" : `${item.loudness.toFixed(1)} LUFS`;
      // blind: gains would give the hidden reference away (it gets the reference's gain)
      const gain = data.blind ? "" : `gain ${decibels(item.gain_db)}`;
      row.append(element("kbd", "key", String(item.key)), element("span", "label", item.label),
        element("span", "gain", gain), element("span", "loudness", data.blind ? "" : loudness));
      if (data.blind && index > 0) row.append(...ratingSlider(item));
      row.addEventListener("click", () => select(index));
      list.append(row);
    });
  }

  function showPicture(item) {
    const picture = data.blind ? items[0].picture : item.picture;
    $("picture").hidden = !picture;
    if (!picture) return;
    $("picture-image").src = picture.path;
    const playhead = $("playhead");
    playhead.style.top = `${100 * picture.top}%`;
    playhead.style.height = `${100 * (picture.bottom - picture.top)}%`;
  }

  function showSelection() {
    const item = items[player.current];
    document.querySelectorAll(".take").forEach((row) => {
      row.classList.toggle("current", Number(row.dataset.index) === player.current);
    });
    $("detail-title").textContent = data.blind ? `Playing: ${item.label}` : item.label;
    showPicture(item);
    $("reproduce").hidden = !item.command;
    if (!item.command) return;
    $("command").textContent = item.command;
    $("preset").textContent = item.preset_toml;
    $("preset-path").textContent = item.preset_path;
    $("preset-use").textContent = `--preset ${item.preset_path.split(/[\\/]/).pop().replace(/\.toml$/, "")}`;
    $("wav").hidden = !player.wavUrls[player.current];
    $("wav").href = player.wavUrls[player.current] || "";
    $("wav").download = `${data.source.replace(/\.[^.]*$/, "")}_${item.id}.wav`;
  }

  function movePlayhead(at) {
    const picture = data.blind ? items[0].picture : items[player.current].picture;
    if (!picture) return;
    const fraction = Math.min(at / picture.seconds, 1);
    $("playhead").style.left = `${100 * (picture.left + (picture.right - picture.left) * fraction)}%`;
  }

  function tick() {
    const at = position();
    $("time").textContent = `${clock(at)} / ${clock(player.duration)}`;
    if (!player.dragging) $("seek").value = Math.round((1000 * at) / player.duration);
    movePlayhead(at);
    requestAnimationFrame(tick);
  }

  function pictureClick(event) {
    const picture = data.blind ? items[0].picture : items[player.current].picture;
    const box = event.currentTarget.getBoundingClientRect();
    const fraction = ((event.clientX - box.left) / box.width - picture.left) / (picture.right - picture.left);
    if (fraction >= 0 && fraction <= 1) seek(fraction * picture.seconds);
  }

  // --- blind ratings ------------------------------------------------------------------------------------------
  function showRatingState() {
    const missing = items.slice(1).filter((item) => !(item.id in ratings)).length;
    $("download").disabled = missing > 0;
    $("rating-status").textContent = missing ? `${missing} item(s) still to rate` : "all rated";
    document.querySelectorAll(".take").forEach((row) => {
      const item = items[Number(row.dataset.index)];
      row.classList.toggle("rated", item.id in ratings);
    });
  }

  function ratingsRecord() {
    const rated = items.slice(1);
    return {
      format: "muse-fx audition ratings",
      version: 1,
      page_id: data.page_id,
      source: data.source,
      start: data.start,
      duration: data.duration,
      listener: $("listener").value.trim() || "anonymous",
      timestamp: new Date().toISOString(),
      shuffle_seed: data.shuffle_seed,
      order: rated.map((item) => data.names[item.id]),
      ratings: Object.fromEntries(rated.map((item) => [data.names[item.id], ratings[item.id]])),
    };
  }

  function downloadRatings() {
    const record = ratingsRecord();
    const blob = new Blob([`${JSON.stringify(record, null, 2)}\n`], { type: "application/json" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `ratings-${data.page_id}-${record.listener.replace(/[^A-Za-z0-9_-]+/g, "-")}.json`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
    $("rating-status").textContent = `saved ${link.download}`;
  }

  // --- wiring -------------------------------------------------------------------------------------------------
  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.target.matches("input[type=text], textarea")) return;
    const inSlider = event.target.matches("input[type=range]");
    if (/^[0-9]$/.test(event.key)) select(Number(event.key));
    else if (event.key === " ") togglePlay();
    else if (event.key === "ArrowLeft" && !inSlider) seek(position() - JUMP_SECONDS);
    else if (event.key === "ArrowRight" && !inSlider) seek(position() + JUMP_SECONDS);
    else return;
    event.preventDefault();
  }

  async function copy(event) {
    const button = event.currentTarget;
    const text = $(button.dataset.copy).textContent;
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch {
      window.getSelection().selectAllChildren($(button.dataset.copy)); // the browser refused: select it for Ctrl-C
      button.textContent = "Selected: press Ctrl-C";
    }
  }

  function wire() {
    $("source").textContent = `— ${data.source}, ${clock(data.start)} to ${clock(data.start + data.duration)}`;
    document.title = `muse-fx audition — ${data.source}`;
    buildTakes();
    $("rating").hidden = !data.blind;
    $("play").addEventListener("click", togglePlay);
    $("seek").addEventListener("input", (event) => seek((event.target.value / 1000) * player.duration));
    $("seek").addEventListener("pointerdown", () => { player.dragging = true; });
    window.addEventListener("pointerup", () => { player.dragging = false; });
    $("picture").querySelector(".frame").addEventListener("click", pictureClick);
    $("download").addEventListener("click", downloadRatings);
    document.querySelectorAll("button.copy").forEach((button) => button.addEventListener("click", copy));
    document.addEventListener("keydown", onKey);
    showSelection();
    if (data.blind) showRatingState();
  }

  window.audition = Object.freeze({
    state: () => ({
      ready: player.ready,
      playing: player.playing,
      position: position(),
      duration: player.duration,
      current: player.current,
      currentId: items[player.current].id,
      sounding: player.voice ? player.buffers.indexOf(player.voice.source.buffer) : null, // the take heard now
      contextState: player.context ? player.context.state : null,
      gains: player.matchGains.map((node) => node.gain.value),
      lastSwitch: player.lastSwitch && { ...player.lastSwitch },
      ratings: { ...ratings },
    }),
  });

  wire();
  load().then(() => {
    $("play").disabled = false;
    $("seek").disabled = false;
    $("play").textContent = "Play";
    $("status").textContent = `Ready: ${items.length} versions, loudness-matched. Press Space to play.`;
    showSelection();
    requestAnimationFrame(tick);
  }, (error) => {
    $("status").textContent = `Could not load the audio: ${error.message}`;
    console.error(error);
  });
})();
