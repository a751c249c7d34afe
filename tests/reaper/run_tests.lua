-- Scenarios for the muse_fx Reaper actions, run against fake_reaper.lua.
-- Usage (from anywhere): lua5.4 tests/reaper/run_tests.lua [name-substring]
-- Prints one "ok"/"FAIL" line per scenario and exits non-zero if any failed.

local here = arg[0]:match("^(.*[/\\])") or "./"
package.path = here .. "?.lua;" .. package.path
local fake = require("fake_reaper")
local SCRIPTS = here .. "../../integrations/reaper/"
local ITEMS = SCRIPTS .. "muse_fx_enhance_items.lua"
local TIME_SELECTION = SCRIPTS .. "muse_fx_enhance_time_selection.lua"

local tests = {}
local function test(name, fn) tests[#tests + 1] = { name = name, fn = fn } end

------------------------------------------------------------------------------------------- helpers

local function eq(actual, expected, what)
  if actual ~= expected then
    error(("%s: expected %q, got %q"):format(what or "value", tostring(expected), tostring(actual)), 2)
  end
end

local function near(actual, expected, what)
  if math.abs(actual - expected) > 1e-9 then
    error(("%s: expected %.9f, got %.9f"):format(what or "value", expected, actual), 2)
  end
end

local function contains(text, part, what)
  if not tostring(text):find(part, 1, true) then
    error(("%s: %q does not contain %q"):format(what or "text", tostring(text), part), 2)
  end
end

local function option(argv, name)
  for i, a in ipairs(argv) do
    if a == name then return argv[i + 1] end
  end
end

local function has(argv, name)
  for _, a in ipairs(argv) do
    if a == name then return true end
  end
  return false
end

local function list_dir(dir)
  local p = io.popen("ls -A " .. fake.sh_quote(dir) .. " 2>/dev/null")
  local names = {}
  for line in p:lines() do names[#names + 1] = line end
  p:close()
  table.sort(names)
  return table.concat(names, "|")
end

--- An undo block must be closed as often as it is opened, whatever happened.
local function undo_balanced(w, expected_blocks)
  eq(w:count("Undo_BeginBlock"), w:count("Undo_EndBlock"), "Undo_BeginBlock vs Undo_EndBlock")
  eq(w:count("Undo_BeginBlock"), expected_blocks, "undo blocks")
end

local function no_message(w)
  if #w.messages > 0 then error("unexpected message: " .. w.messages[1].text, 2) end
end

local function one_message(w, part)
  eq(#w.messages, 1, "messages shown")
  contains(w.messages[1].text, part, "message")
  return w.messages[1].text
end

--- A selected item on a new track, playing `file` (a stereo 60 s source unless told).
local function audio_item(w, opts)
  local track = opts.track or w:track({ name = opts.track_name or "Vocals", selected = opts.track_selected })
  local source = opts.source or w:source({ file = opts.file or (w.root .. "/Lead vocal.wav"),
    channels = opts.channels, length = opts.source_length })
  return w:item(track, {
    position = opts.position or 10, length = opts.length or 4, selected = opts.selected ~= false,
    takes = { { source = source, name = opts.name or "Lead vocal", info = opts.info } },
  }), track
end

local function output_dir(w) return w.project .. "/muse_fx" end

------------------------------------------------------------------------------------------- selected items

test("no selected item: a message, no process, no undo point", function(w)
  w:run_action(ITEMS)
  one_message(w, "Select one or more audio items")
  eq(#w.launched, 0, "processes started")
  undo_balanced(w, 0)
end)

test("one item: muse-fx gets source, range and progress file; result becomes the active take", function(w)
  local item = audio_item(w, {})
  local original = item.active
  w:run_action(ITEMS)
  no_message(w)
  local calls = w:muse_fx_calls()
  eq(#calls, 1, "muse-fx calls")
  local argv, out = calls[1], output_dir(w) .. "/Lead vocal_enhanced_1.wav"
  eq(argv[1], "enhance", "subcommand")
  eq(argv[2], w.root .. "/Lead vocal.wav", "source")
  eq(option(argv, "-o"), out, "output")
  eq(option(argv, "--start"), "0.000000", "--start")
  eq(option(argv, "--duration"), "4.000000", "--duration")
  eq(option(argv, "--progress-file"), out .. ".progress", "--progress-file")
  eq(argv[#argv], "--overwrite", "last argument")
  eq(has(argv, "--server"), false, "--server without a configured server")
  eq(#item.takes, 2, "takes")
  eq(item.takes[1], original, "original take kept first")
  local new = item.active
  eq(new, item.takes[2], "new take is active")
  eq(new.source.file, out, "new take's file")
  eq(new.name, "Lead vocal (muse_fx)", "new take's name")
  near(new.info.D_STARTOFFS, 0, "new D_STARTOFFS")
  near(new.info.D_PLAYRATE, 1, "new D_PLAYRATE")
  undo_balanced(w, 1)
  eq(w:calls_of("Undo_EndBlock")[1].args[1], "muse_fx: Enhance selected items", "undo point name")
  eq(list_dir(output_dir(w)), "Lead vocal_enhanced_1.wav", "files left next to the project media")
  eq(w.window.open, false, "progress window closed")
  contains(table.concat(w.window.draws, "\n"), "Lead vocal (1 of 1)", "progress text")
end)

test("several items: one muse-fx at a time, distinct outputs, one undo point", function(w)
  local a = audio_item(w, { position = 0 })
  local b = audio_item(w, { position = 20, name = "Second" })
  local c = audio_item(w, { position = 40, file = w.root .. "/Guitar.flac", name = "Guitar" })
  local unselected = audio_item(w, { position = 60, selected = false })
  w:run_action(ITEMS)
  no_message(w)
  eq(#w:muse_fx_calls(), 3, "muse-fx calls")
  eq(w.most_at_once, 1, "processes running at once")
  eq(a.active.source.file, output_dir(w) .. "/Lead vocal_enhanced_1.wav", "first output")
  eq(b.active.source.file, output_dir(w) .. "/Lead vocal_enhanced_2.wav", "second output")
  eq(c.active.source.file, output_dir(w) .. "/Guitar_enhanced_1.wav", "third output")
  eq(#unselected.takes, 1, "unselected item untouched")
  undo_balanced(w, 1)
end)

test("start offset: --start is the take's offset into its source", function(w)
  local item = audio_item(w, { length = 3, info = { D_STARTOFFS = 2.5 } })
  w:run_action(ITEMS)
  local argv = w:muse_fx_calls()[1]
  eq(option(argv, "--start"), "2.500000", "--start")
  eq(option(argv, "--duration"), "3.000000", "--duration")
  near(item.active.info.D_STARTOFFS, 0, "new take starts at the beginning of the enhanced file")
  near(item.takes[1].info.D_STARTOFFS, 2.5, "original offset untouched")
end)

test("playrate 2: duration in source seconds, new take keeps rate and pitch settings", function(w)
  local item = audio_item(w, { length = 3, info = { D_STARTOFFS = 1, D_PLAYRATE = 2, B_PPITCH = 0, D_PITCH = -2 } })
  w:run_action(ITEMS)
  local argv = w:muse_fx_calls()[1]
  eq(option(argv, "--start"), "1.000000", "--start")
  eq(option(argv, "--duration"), "6.000000", "--duration = D_LENGTH * D_PLAYRATE")
  local new = item.active
  near(new.info.D_PLAYRATE, 2, "new D_PLAYRATE")
  near(new.info.D_STARTOFFS, 0, "new D_STARTOFFS")
  eq(new.info.B_PPITCH, 0, "preserve-pitch copied")
  near(new.info.D_PITCH, -2, "pitch copied")
end)

test("playrate 0.5 with an offset", function(w)
  local item = audio_item(w, { length = 5, info = { D_STARTOFFS = 0.25, D_PLAYRATE = 0.5 } })
  w:run_action(ITEMS)
  local argv = w:muse_fx_calls()[1]
  eq(option(argv, "--start"), "0.250000", "--start")
  eq(option(argv, "--duration"), "2.500000", "--duration")
  near(item.active.info.D_PLAYRATE, 0.5, "new D_PLAYRATE")
end)

test("item reaching outside its source: only real audio is sent, the new take stays aligned", function(w)
  local item = audio_item(w, { length = 4, source_length = 2.5, info = { D_STARTOFFS = -1 } })
  w:run_action(ITEMS)
  local argv = w:muse_fx_calls()[1]
  eq(option(argv, "--start"), "0.000000", "--start")
  eq(option(argv, "--duration"), "2.500000", "--duration")
  near(item.active.info.D_STARTOFFS, -1, "new take keeps the lead-in")
end)

test("section source: the parent file is enhanced from the section's offset", function(w)
  local parent = w:source({ file = w.root .. "/Long take.wav", length = 100 })
  local section = w:source({ file = "", parent = parent, section = { offset = 30, length = 10 } })
  audio_item(w, { source = section, length = 2, info = { D_STARTOFFS = 1 } })
  w:run_action(ITEMS)
  local argv = w:muse_fx_calls()[1]
  eq(argv[2], w.root .. "/Long take.wav", "source")
  eq(option(argv, "--start"), "31.000000", "--start")
end)

test("stereo source with a channel mode: passed through, channel mode copied", function(w)
  local item = audio_item(w, { channels = 2, info = { I_CHANMODE = 3 } })
  w:run_action(ITEMS)
  no_message(w)
  local argv = w:muse_fx_calls()[1]
  for _, a in ipairs(argv) do
    if a:find("chan") or a:find("mono") then error("unexpected channel argument " .. a) end
  end
  eq(item.active.info.I_CHANMODE, 3, "channel mode copied")
  eq(item.takes[1].source.channels, 2, "original source still stereo")
end)

test("existing output files are never overwritten", function(w)
  audio_item(w, {})
  os.execute("mkdir -p " .. fake.sh_quote(output_dir(w)))
  fake.write(output_dir(w) .. "/Lead vocal_enhanced_1.wav", "earlier result")
  w:run_action(ITEMS)
  eq(fake.read(output_dir(w) .. "/Lead vocal_enhanced_1.wav"), "earlier result", "earlier file")
  eq(option(w:muse_fx_calls()[1], "-o"), output_dir(w) .. "/Lead vocal_enhanced_2.wav", "new output")
end)

test("spaces, quotes, $ and backticks in paths reach muse-fx unchanged", function(w)
  local nasty = w.root .. "/it's a \"take\" $HOME `id` & more.wav"
  audio_item(w, { file = nasty })
  w:run_action(ITEMS)
  no_message(w)
  local argv = w:muse_fx_calls()[1]
  eq(argv[2], nasty, "source")
  eq(option(argv, "-o"), output_dir(w) .. "/it's a \"take\" $HOME `id` & more_enhanced_1.wav", "output")
  contains(w.launched[1], "/bin/sh \"", "launch through /bin/sh")
end)

test("server and preset from ExtState are passed on", function(w)
  audio_item(w, {})
  w.ext.muse_fx.server = "http://studio.local:8000"
  w.ext.muse_fx.preset = "vocals warm"
  w:run_action(ITEMS)
  local argv = w:muse_fx_calls()[1]
  eq(option(argv, "--server"), "http://studio.local:8000", "--server")
  eq(option(argv, "--preset"), "vocals warm", "--preset")
  eq(argv[#argv], "--overwrite", "last argument")
end)

test("server down: muse-fx's error is shown, no take added, undo balanced", function(w)
  local item = audio_item(w, {})
  w.ext.muse_fx.server = "http://studio.local:8000"
  w:set_muse_fx("error cannot reach server http://studio.local:8000: connection refused")
  w:run_action(ITEMS)
  one_message(w, "cannot reach server http://studio.local:8000: connection refused")
  contains(w.messages[1].text, "enhanced 0 of 1", "summary")
  eq(#item.takes, 1, "takes")
  undo_balanced(w, 0)
  eq(list_dir(output_dir(w)), "", "reserved output removed")
end)

test("one of two fails: the other is still applied in one undo point", function(w)
  local a = audio_item(w, { position = 0, name = "First" })
  local b = audio_item(w, { position = 20, name = "Second" })
  w:set_muse_fx("error out of memory", "done")
  w:run_action(ITEMS)
  local text = one_message(w, "enhanced 1 of 2")
  contains(text, "First: error: out of memory", "failure line")
  eq(#a.takes, 1, "failed item")
  eq(#b.takes, 2, "enhanced item")
  undo_balanced(w, 1)
end)

test("muse-fx missing: the wrapper reports it at once with the tried path", function(w)
  local item = audio_item(w, {})
  local missing = w.root .. "/no such dir/muse-fx"
  w.ext.muse_fx.executable = missing
  w:run_action(ITEMS, 200)
  local text = one_message(w, "muse-fx not found")
  contains(text, missing, "tried path")
  contains(text, "muse_fx/executable", "how to fix")
  eq(#item.takes, 1, "takes")
  undo_balanced(w, 0)
end)

test("process never starts: a clear message after the start timeout, no hang", function(w)
  local item = audio_item(w, {})
  w.exec_mode = "ignore"
  local started = w.clock
  w:run_action(ITEMS, 1000)
  one_message(w, "did not start within 20 s")
  if w.clock - started < 20 then error("gave up before the timeout") end
  eq(#item.takes, 1, "takes")
  eq(list_dir(output_dir(w)), "", "job files removed")
  undo_balanced(w, 0)
end)

test("ExecProcess fails outright: message, next job still runs", function(w)
  audio_item(w, {})
  w.exec_mode = "fail"
  w:run_action(ITEMS, 50)
  one_message(w, "REAPER could not start")
  undo_balanced(w, 0)
end)

test("muse-fx crashes: exit code and its last stderr line are shown", function(w)
  audio_item(w, {})
  w:set_muse_fx("crash Traceback: ValueError: boom")
  w:run_action(ITEMS, 200)
  local text = one_message(w, "exit code 3")
  contains(text, "muse-fx said: Traceback: ValueError: boom", "stderr")
  eq(list_dir(output_dir(w)), "Lead vocal_enhanced_1.wav.log", "only the log is kept")
end)

test("muse-fx reports done without audio: an error, not an empty take", function(w)
  local item = audio_item(w, {})
  w:set_muse_fx("empty")
  w:run_action(ITEMS, 200)
  one_message(w, "wrote no audio")
  eq(#item.takes, 1, "takes")
end)

test("progress that stops changing: gives up after the ExtState timeout", function(w)
  local item = audio_item(w, {})
  w.exec_mode = "ignore"
  w.ext.muse_fx.timeout = "5"
  w.at_tick[3] = function()
    fake.write(output_dir(w) .. "/Lead vocal_enhanced_1.wav.progress", "running\t0.25\tchunk 1 of 4\n")
  end
  w:run_action(ITEMS, 1000)
  one_message(w, "no progress from muse-fx for 5 s")
  eq(#item.takes, 1, "takes")
  contains(table.concat(w.window.draws, "\n"), "25% chunk 1 of 4", "progress shown")
end)

test("a CRLF progress line (Windows echo) is understood", function(w)
  local item = audio_item(w, {})
  w.exec_mode = "ignore"
  w.at_tick[3] = function()
    local out = output_dir(w) .. "/Lead vocal_enhanced_1.wav"
    fake.write(out, "RIFF")
    fake.write(out .. ".progress", "done\t1\tfinished\r\n")
  end
  w:run_action(ITEMS, 100)
  no_message(w)
  eq(#item.takes, 2, "takes")
end)

test("project folder not writable: a message instead of a script error", function(w)
  local item = audio_item(w, {})
  fake.write(w.root .. "/a file", "")
  w.project = w.root .. "/a file/Media"
  w:run_action(ITEMS, 100)
  one_message(w, "a file/Media/muse_fx/Lead vocal_enhanced_1.wav")
  eq(#item.takes, 1, "takes")
  eq(#w.launched, 0, "processes")
end)

test("closing the progress window cancels without adding takes", function(w)
  local item = audio_item(w, {})
  w.exec_mode = "ignore"
  w.at_tick[4] = function() w.window.closed_by_user = true end
  w:run_action(ITEMS, 100)
  one_message(w, "cancelled")
  eq(#item.takes, 1, "takes")
  undo_balanced(w, 0)
end)

test("item deleted while muse-fx runs: reported, undo still balanced", function(w)
  local item = audio_item(w, {})
  w.at_tick[1] = function() w:delete_item(item) end
  w:run_action(ITEMS)
  one_message(w, "the item was deleted")
  undo_balanced(w, 1)
end)

test("MIDI and empty items are skipped and named", function(w)
  local track = w:track({ name = "Keys" })
  w:item(track, { position = 0, length = 2, selected = true,
    takes = { { source = w:source({ file = "", midi = true }), name = "Piano MIDI" } } })
  w:item(track, { position = 5, length = 2, selected = true })
  local audio = audio_item(w, { position = 10 })
  w:run_action(ITEMS)
  local text = one_message(w, "enhanced 1 of 3")
  contains(text, "Piano MIDI: skipped: MIDI take", "MIDI line")
  contains(text, "item at 5.00 s: skipped: empty item", "empty line")
  eq(#audio.takes, 2, "audio item enhanced")
end)

test("only MIDI selected: a message, no process", function(w)
  local track = w:track({ name = "Keys" })
  w:item(track, { position = 0, length = 2, selected = true,
    takes = { { source = w:source({ file = "", midi = true }), name = "Piano MIDI" } } })
  w:run_action(ITEMS)
  one_message(w, "enhanced 0 of 1")
  eq(#w.launched, 0, "processes")
end)

------------------------------------------------------------------------------------------- quoting

test("quote_sh survives sh for awkward strings", function(w)
  local common = dofile(SCRIPTS .. "muse_fx_common.lua")
  for _, s in ipairs({ "plain", "with space", "it's", "'", "''", "$HOME", "`id`", "a\\b", "\"q\"", "*", "" }) do
    local p = io.popen("printf '%s' " .. common.quote_sh(s))
    eq(p:read("a"), s, "round trip")
    p:close()
  end
end)

test("quote_cmd: quotes, doubles % and trailing backslashes, refuses \"", function(w)
  local common = dofile(SCRIPTS .. "muse_fx_common.lua")
  eq(common.quote_cmd([[C:\My Music\100% take.wav]]), [["C:\My Music\100%% take.wav"]], "spaces and %")
  eq(common.quote_cmd([[C:\dir\]]), [["C:\dir\\"]], "trailing backslash")
  eq(common.quote_cmd("R&B (mix)"), [["R&B (mix)"]], "operators inside quotes")
  if pcall(common.quote_cmd, 'say "hi"') then error("a double quote was accepted") end
end)

test("Windows: launched through cmd.exe with a .cmd wrapper", function(w)
  audio_item(w, {})
  w.os_name = "Win64"
  w.exec_mode = "ignore"
  w.ext.muse_fx.server = "http://studio:8000/?a=1&b=2"
  w:run_action(ITEMS, 1000)
  local command = w.launched[1]
  local script = command:match('^cmd%.exe /S /C ""(.*%.cmd)""$')
  if not script then error("unexpected command line " .. command) end
  eq(w:calls_of("ExecProcess")[1].args[2], -2, "ExecProcess timeout (no wait, minimised)")
  one_message(w, "did not start")
end)

test("Windows wrapper text: every argument quoted for cmd", function(w)
  local common = dofile(SCRIPTS .. "muse_fx_common.lua")
  local job = { progress = [[C:\p\o.wav.progress]], log = [[C:\p\o.wav.log]] }
  local settings = { executable = [[C:\Program Files (x86)\muse-fx.exe]] }
  local text = common.windows_wrapper({ settings.executable, "enhance", [[C:\a & b\100%.wav]] }, job, settings)
  contains(text, [["C:\Program Files (x86)\muse-fx.exe" "enhance" "C:\a & b\100%%.wav" > nul 2> "C:\p\o.wav.log"]], "command")
  contains(text, [[echo error	0	muse-fx not found ^(tried: C:\Program Files ^(x86^)\muse-fx.exe^)]], "escaped message")
  contains(text, "\r\n", "CRLF line ends")
end)

------------------------------------------------------------------------------------------- time selection

test("time selection: none set", function(w)
  audio_item(w, { track_selected = true })
  w:run_action(TIME_SELECTION)
  one_message(w, "Make a time selection first")
  eq(#w.launched, 0, "processes")
end)

test("time selection: no selected track", function(w)
  audio_item(w, {})
  w.time_selection = { 11, 12 }
  w:run_action(TIME_SELECTION)
  one_message(w, "Select the track")
  eq(#w.launched, 0, "processes")
end)

test("time selection: nothing on the track overlaps it", function(w)
  audio_item(w, { track_selected = true, position = 10, length = 4 })
  w.time_selection = { 20, 30 }
  w:run_action(TIME_SELECTION)
  one_message(w, "No item on the selected tracks overlaps")
  eq(#w.launched, 0, "processes")
end)

test("time selection overlapping an item: the overlap goes to a new item on a track below", function(w)
  local above = w:track({ name = "Drums" })
  local item, track = audio_item(w, { track_name = "Vocals", track_selected = true, selected = false,
    position = 10, length = 10, info = { D_STARTOFFS = 1, D_PLAYRATE = 1.5 } })
  local below = w:track({ name = "Bass" })
  w.time_selection = { 12, 25 }
  w:run_action(TIME_SELECTION)
  no_message(w)
  local argv = w:muse_fx_calls()[1]
  eq(option(argv, "--start"), "4.000000", "--start = 1 + (12 - 10) * 1.5")
  eq(option(argv, "--duration"), "12.000000", "--duration = (20 - 12) * 1.5")
  eq(#w.tracks, 4, "tracks")
  eq(w.tracks[1], above, "track above")
  eq(w.tracks[2], track, "original track")
  local result = w.tracks[3]
  eq(result.name, "Vocals (muse_fx)", "new track name")
  eq(w.tracks[4], below, "track below")
  eq(#track.items, 1, "original items")
  eq(#item.takes, 1, "original takes")
  eq(#result.items, 1, "new items")
  local new = result.items[1]
  near(new.info.D_POSITION, 12, "new item position")
  near(new.info.D_LENGTH, 8, "new item length")
  near(new.active.info.D_PLAYRATE, 1.5, "new take playrate")
  near(new.active.info.D_STARTOFFS, 0, "new take offset")
  eq(new.active.source.file, output_dir(w) .. "/Lead vocal_enhanced_1.wav", "new take file")
  undo_balanced(w, 1)
  eq(w:calls_of("Undo_EndBlock")[1].args[1], "muse_fx: Enhance time selection on selected tracks", "undo name")
end)

test("time selection again: the existing result track is reused", function(w)
  local _, track = audio_item(w, { track_name = "Vocals", track_selected = true, position = 0, length = 30 })
  w.time_selection = { 1, 2 }
  w:run_action(TIME_SELECTION)
  w.time_selection = { 5, 7 }
  w:run_action(TIME_SELECTION)
  no_message(w)
  eq(#w.tracks, 2, "tracks")
  eq(#w.tracks[2].items, 2, "items on the result track")
  eq(#track.items, 1, "original items")
  undo_balanced(w, 2)
end)

test("time selection over two items on two selected tracks", function(w)
  local _, t1 = audio_item(w, { track_name = "A", track_selected = true, position = 0, length = 5 })
  audio_item(w, { track_name = "B", track_selected = true, position = 3, length = 5 })
  w:item(t1, { position = 6, length = 3, takes = { { source = w:source({ file = w.root .. "/x.wav" }), name = "x" } } })
  w.time_selection = { 4, 7 }
  w:run_action(TIME_SELECTION)
  no_message(w)
  eq(#w:muse_fx_calls(), 3, "muse-fx calls")
  local names = {}
  for _, t in ipairs(w.tracks) do names[#names + 1] = t.name end
  eq(table.concat(names, ","), "A,A (muse_fx),B,B (muse_fx)", "track order")
  eq(#w.tracks[2].items, 2, "A's result items")
  undo_balanced(w, 1)
end)

------------------------------------------------------------------------------------------- real muse-fx

-- Only when tests/test_hardening_files.py hands over a real muse-fx (tiny model) and a source file: the
-- action's own arguments (-o <name>.wav) must give a playable WAV for every kind of item, MP3 included.
local REAL, REAL_SOURCE = os.getenv("MUSE_FX_REAL_EXECUTABLE"), os.getenv("MUSE_FX_REAL_SOURCE")
if REAL and REAL_SOURCE then
  test("real muse-fx: the item's source becomes a WAV take", function(w)
    w.ext.muse_fx.executable = REAL
    local item = audio_item(w, { file = REAL_SOURCE, position = 0, length = 0.5, source_length = 1 })
    w:run_action(ITEMS)
    no_message(w)
    local out = item.active.source.file
    eq(out, output_dir(w) .. "/" .. REAL_SOURCE:match("([^/]+)%.%w+$") .. "_enhanced_1.wav", "new take's file")
    local header = fake.read(out):sub(1, 12)
    eq(header:sub(1, 4) .. header:sub(9, 12), "RIFFWAVE", "WAV header")
    eq(list_dir(output_dir(w)), out:match("[^/]+$"), "files left next to the project media")
  end)
end

------------------------------------------------------------------------------------------- runner

local only, ran, failed = arg[1], 0, 0
for _, t in ipairs(tests) do
  if not only or t.name:find(only, 1, true) then
    ran = ran + 1
    local w = fake.new()
    local ok, err = xpcall(t.fn, debug.traceback, w)
    w:cleanup()
    print((ok and "ok   " or "FAIL ") .. t.name)
    if not ok then
      failed = failed + 1
      print("     " .. tostring(err):gsub("\n", "\n     "))
    end
  end
end
print(("%d scenarios, %d failed"):format(ran, failed))
os.exit(failed == 0 and 0 or 1)
