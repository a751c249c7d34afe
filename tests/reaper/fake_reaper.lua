-- fake_reaper.lua: a scripted stand-in for REAPER's `reaper` and `gfx` API, for running the
-- muse_fx actions under a plain Lua interpreter.
--
-- A world holds tracks, items, takes and sources; every API call is recorded in world.calls, and
-- a call to an API this fake does not know fails loudly (so a typo in the scripts cannot pass).
-- ExecProcess really runs the command line with /bin/sh a few defer ticks later (exec_mode "run"),
-- records it and does nothing ("ignore": the process never starts), or fails ("fail"). The
-- `muse-fx` it reaches is a generated shell script whose behaviour per call the test chooses.
-- GetUserInputs answers from world.answers, one entry per dialog: a string is typed and confirmed,
-- false cancels; with none left, the dialog is confirmed as shown.

local F = {}
local World = {}
World.__index = World

local function sh_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end
F.sh_quote = sh_quote

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end
F.read = read

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end
F.write = write

-- Arguments are recorded one per line, each call closed by "--end--"; the mode file holds one
-- line per call ("done", "error <message>", "crash <stderr text>", "empty"), the last one repeating.
local FAKE_MUSE_FX = [[#!/bin/sh
here=$(dirname "$0")
{ for a in "$@"; do printf '%s\n' "$a"; done; echo --end--; } >> "$here/calls.txt"
n=$(grep -c '^--end--$' "$here/calls.txt")
line=$(sed -n "${n}p" "$here/mode")
[ -n "$line" ] || line=$(tail -n 1 "$here/mode")
mode=${line%% *}
message=${line#* }
while [ $# -gt 0 ]; do
  case $1 in
    -o) out=$2; shift ;;
    --progress-file) progress=$2; shift ;;
  esac
  shift
done
publish() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" > "$progress.part" && mv -f "$progress.part" "$progress"; }
case $mode in
  done) publish running 0.5 enhancing; printf 'RIFF fake wave' > "$out"; publish done 1 finished ;;
  error) publish error 0 "$message"; exit 1 ;;
  crash) echo "$message" >&2; exit 3 ;;
  empty) publish done 1 finished ;;
esac
]]

local TAKE_DEFAULTS = {
  D_STARTOFFS = 0, D_PLAYRATE = 1, B_PPITCH = 1, D_PITCH = 0, I_PITCHMODE = -1,
  I_CHANMODE = 0, D_VOL = 1, D_PAN = 0,
}
local ITEM_KEYS = { D_POSITION = true, D_LENGTH = true }

------------------------------------------------------------------------------------------- world

--- A fresh world in its own temporary directory, installed as the globals `reaper` and `gfx`.
function F.new()
  local root = os.tmpname()
  os.remove(root)
  local w = setmetatable({
    root = root,
    tracks = {}, items = {}, sources = {},
    time_selection = { 0, 0 },
    ext = {}, os_name = "Other",
    clock = 1000, tick = 0, tick_seconds = 0.05,
    deferred = {}, calls = {}, messages = {}, pending = {}, launched = {}, dialogs = {}, answers = {},
    exec_mode = "run", exec_delay = 2, most_at_once = 0,
    window = { open = false, draws = {} },
    at_tick = {},
  }, World)
  w.project = root .. "/My 'Project' $HOME/Media"
  w.bin = root .. "/bin dir"
  w.muse_fx = w.bin .. "/muse-fx 'fake'"
  os.execute("mkdir -p " .. sh_quote(w.project) .. " " .. sh_quote(w.bin))
  write(w.muse_fx, FAKE_MUSE_FX)
  os.execute("chmod +x " .. sh_quote(w.muse_fx))
  w:set_muse_fx("done")
  w.ext.muse_fx = { executable = w.muse_fx }
  w:install()
  return w
end

function World:cleanup()
  os.execute("rm -rf " .. sh_quote(self.root))
  reaper, gfx = nil, nil
end

--- Behaviour of the fake muse-fx, one entry per call (the last repeats).
function World:set_muse_fx(...)
  write(self.bin .. "/mode", table.concat({ ... }, "\n") .. "\n")
end

--- Argument lists muse-fx actually received, after the shell's quoting.
function World:muse_fx_calls()
  local calls, current = {}, {}
  for line in (read(self.bin .. "/calls.txt") or ""):gmatch("([^\n]*)\n") do
    if line == "--end--" then
      calls[#calls + 1], current = current, {}
    else
      current[#current + 1] = line
    end
  end
  return calls
end

function World:source(opts)
  local source = {
    kind = "PCM_source*", file = opts.file, channels = opts.channels or 2,
    length = opts.length or 60, midi = opts.midi, parent = opts.parent, section = opts.section,
  }
  self.sources[#self.sources + 1] = source
  return source
end

function World:track(opts)
  opts = opts or {}
  local track = { kind = "MediaTrack*", name = opts.name or "", selected = opts.selected, items = {} }
  self.tracks[#self.tracks + 1] = track
  return track
end

--- An item with one take per entry of opts.takes ({source=, name=, info={...}}); the last is active.
function World:item(track, opts)
  local item = {
    kind = "MediaItem*", track = track, selected = opts.selected,
    info = { D_POSITION = opts.position or 0, D_LENGTH = opts.length or 1 }, takes = {},
  }
  for _, t in ipairs(opts.takes or {}) do
    local take = { kind = "MediaItem_Take*", item = item, source = t.source, name = t.name or "", info = {} }
    for k, v in pairs(TAKE_DEFAULTS) do take.info[k] = v end
    for k, v in pairs(t.info or {}) do take.info[k] = v end
    item.takes[#item.takes + 1] = take
  end
  item.active = item.takes[#item.takes]
  track.items[#track.items + 1] = item
  self.items[#self.items + 1] = item
  return item
end

function World:delete_item(item)
  for i, it in ipairs(self.items) do
    if it == item then table.remove(self.items, i) end
  end
  for i, it in ipairs(item.track.items) do
    if it == item then table.remove(item.track.items, i) end
  end
end

function World:selected_items()
  local list = {}
  for _, item in ipairs(self.items) do
    if item.selected then list[#list + 1] = item end
  end
  return list
end

function World:count(name)
  local n = 0
  for _, call in ipairs(self.calls) do
    if call.name == name then n = n + 1 end
  end
  return n
end

function World:calls_of(name)
  local list = {}
  for _, call in ipairs(self.calls) do
    if call.name == name then list[#list + 1] = call end
  end
  return list
end

------------------------------------------------------------------------------------------- running

--- Loads an action the way REAPER does (dofile of its path), then drives its defer loop.
function World:run_action(path, max_ticks)
  dofile(path)
  self:run(max_ticks)
end

--- Runs deferred functions tick by tick on a simulated clock until none is left; a loop that never
--- ends is an error, not a hang.
function World:run(max_ticks)
  max_ticks = max_ticks or 5000
  local start = self.tick
  while #self.deferred > 0 do
    if self.tick - start >= max_ticks then error("defer loop still running after " .. max_ticks .. " ticks", 2) end
    self.tick = self.tick + 1
    self.clock = self.clock + self.tick_seconds
    if self.at_tick[self.tick] then self.at_tick[self.tick](self) end
    local due = {}
    for i = #self.pending, 1, -1 do
      if self.pending[i].tick <= self.tick then table.insert(due, 1, table.remove(self.pending, i)) end
    end
    for _, p in ipairs(due) do os.execute(p.command) end
    local fns = self.deferred
    self.deferred = {}
    for _, fn in ipairs(fns) do fn() end
  end
end

------------------------------------------------------------------------------------------- the API

local function index_of(list, x)
  for i, v in ipairs(list) do
    if v == x then return i end
  end
end

local function api(w)
  local r = {}

  function r.GetOS() return w.os_name end
  function r.time_precise() return w.clock end
  function r.defer(fn) w.deferred[#w.deferred + 1] = fn end
  function r.ShowMessageBox(msg, title, kind)
    w.messages[#w.messages + 1] = { text = msg, title = title, kind = kind }
    return 1
  end
  function r.Undo_BeginBlock() end
  function r.Undo_EndBlock() end
  function r.PreventUIRefresh() end
  function r.UpdateArrange() end
  function r.UpdateItemInProject() end
  function r.TrackList_AdjustWindows() end

  function r.GetExtState(section, key) return (w.ext[section] or {})[key] or "" end
  function r.SetExtState(section, key, value, persist)
    assert(type(value) == "string", "fake SetExtState: value must be a string, got " .. type(value))
    assert(persist == true, "fake SetExtState: settings should persist across restarts")
    w.ext[section] = w.ext[section] or {}
    w.ext[section][key] = value
  end

  --- REAPER's dialog: captions_csv may end in "separator=X" and "extrawidth=N"; values use that separator.
  function r.GetUserInputs(title, count, captions_csv, values)
    local captions, separator = {}, ","
    for caption in (captions_csv .. ","):gmatch("([^,]*),") do
      if caption:match("^separator=") then
        separator = caption:sub(#"separator=" + 1)
      elseif not caption:match("^extrawidth=%d+$") then
        captions[#captions + 1] = caption
      end
    end
    assert(#captions == count and count <= 16, "fake GetUserInputs: " .. count .. " fields, captions " .. captions_csv)
    local shown = {}
    for value in (values .. separator):gmatch("(.-)" .. separator:gsub("%p", "%%%0")) do shown[#shown + 1] = value end
    assert(#shown == count, "fake GetUserInputs: " .. count .. " fields but values " .. values)
    w.dialogs[#w.dialogs + 1] = { title = title, captions = captions, values = shown, separator = separator }
    local answer = table.remove(w.answers, 1)
    if answer == false then return false, "" end
    return true, answer or values
  end
  function r.GetProjectPath() return w.project end
  function r.RecursiveCreateDirectory(path)
    os.execute("mkdir -p " .. sh_quote(path) .. " 2> /dev/null")
    return 1
  end

  function r.ExecProcess(command)
    w.launched[#w.launched + 1] = command
    if w.exec_mode == "fail" then return nil end
    if w.exec_mode == "run" then
      w.pending[#w.pending + 1] = { command = command, tick = w.tick + w.exec_delay }
      w.most_at_once = math.max(w.most_at_once, #w.pending)
    end
    return ""
  end

  function r.ValidatePtr2(_, ptr, kind)
    if kind == "MediaItem*" then return index_of(w.items, ptr) ~= nil end
    if kind == "MediaTrack*" then return index_of(w.tracks, ptr) ~= nil end
    error("fake ValidatePtr2: unknown type " .. tostring(kind))
  end

  -- selection and time selection
  function r.CountSelectedMediaItems() return #w:selected_items() end
  function r.GetSelectedMediaItem(_, i) return w:selected_items()[i + 1] end
  local function selected_tracks()
    local list = {}
    for _, t in ipairs(w.tracks) do
      if t.selected then list[#list + 1] = t end
    end
    return list
  end
  function r.CountSelectedTracks() return #selected_tracks() end
  function r.GetSelectedTrack(_, i) return selected_tracks()[i + 1] end
  function r.GetSet_LoopTimeRange(set, loop, a, b)
    assert(not loop, "the time selection, not the loop range, is wanted")
    if set then w.time_selection = { a, b } end
    return w.time_selection[1], w.time_selection[2]
  end

  -- tracks
  function r.GetTrack(_, i) return w.tracks[i + 1] end
  function r.InsertTrackAtIndex(i) table.insert(w.tracks, i + 1, { kind = "MediaTrack*", name = "", items = {} }) end
  function r.GetMediaTrackInfo_Value(track, key)
    assert(key == "IP_TRACKNUMBER", "fake: unknown track key " .. key)
    return assert(index_of(w.tracks, track), "track not in project")
  end
  function r.GetSetMediaTrackInfo_String(track, key, value, set)
    assert(key == "P_NAME", "fake: unknown track key " .. key)
    if set then track.name = value end
    return true, track.name
  end
  function r.CountTrackMediaItems(track) return #track.items end
  function r.GetTrackMediaItem(track, i) return track.items[i + 1] end
  function r.AddMediaItemToTrack(track)
    return w:item(track, { position = 0, length = 0 })
  end

  -- items
  function r.GetMediaItemInfo_Value(item, key)
    assert(ITEM_KEYS[key], "fake: unknown item key " .. key)
    return item.info[key]
  end
  function r.SetMediaItemInfo_Value(item, key, value)
    assert(ITEM_KEYS[key], "fake: unknown item key " .. key)
    item.info[key] = value
    return true
  end
  function r.GetActiveTake(item) return item.active end
  function r.SetActiveTake(take) take.item.active = take end
  function r.AddTakeToMediaItem(item)
    local take = { kind = "MediaItem_Take*", item = item, name = "", info = {} }
    for k, v in pairs(TAKE_DEFAULTS) do take.info[k] = v end
    item.takes[#item.takes + 1] = take
    if not item.active then item.active = take end
    return take
  end

  -- takes
  function r.GetMediaItemTakeInfo_Value(take, key)
    assert(TAKE_DEFAULTS[key], "fake: unknown take key " .. key)
    return take.info[key]
  end
  function r.SetMediaItemTakeInfo_Value(take, key, value)
    assert(TAKE_DEFAULTS[key], "fake: unknown take key " .. key)
    take.info[key] = value
    return true
  end
  function r.GetSetMediaItemTakeInfo_String(take, key, value, set)
    assert(key == "P_NAME", "fake: unknown take key " .. key)
    if set then take.name = value end
    return true, take.name
  end
  function r.TakeIsMIDI(take) return take.source ~= nil and take.source.midi == true end
  function r.GetMediaItemTake_Source(take) return take.source end
  function r.SetMediaItemTake_Source(take, source) take.source = source end

  -- sources
  function r.GetMediaSourceFileName(source) return source.file or "" end
  function r.GetMediaSourceNumChannels(source) return source.channels end
  function r.GetMediaSourceLength(source) return source.length, false end
  function r.GetMediaSourceParent(source) return source.parent end
  function r.PCM_Source_GetSectionInfo(source)
    local s = source.section
    if not s then return false, 0, source.length, false end
    return true, s.offset, s.length, s.reversed == true
  end
  function r.PCM_Source_CreateFromFile(file)
    return w:source({ file = file, length = 0 })
  end

  return r
end

local function fake_gfx(w)
  local g = { w = 460, h = 80, x = 0, y = 0 }
  local function closed() return not w.window.open or w.window.closed_by_user end
  function g.init(title) w.window.open, w.window.title = true, title end
  function g.quit() w.window.open = false end
  function g.getchar() return closed() and -1 or 0 end
  function g.set() end
  function g.rect() end
  function g.update() end
  function g.drawstr(text)
    assert(not closed(), "drawing into a closed window")
    w.window.draws[#w.window.draws + 1] = text
  end
  return g
end

--- Installs the world as `reaper` (every call recorded, unknown names an error) and `gfx`.
function World:install()
  local functions = api(self)
  reaper = setmetatable({}, {
    __index = function(_, name)
      local fn = functions[name]
      if not fn then error("fake reaper: API not implemented: reaper." .. name, 2) end
      return function(...)
        self.calls[#self.calls + 1] = { name = name, args = table.pack(...) }
        return fn(...)
      end
    end,
  })
  gfx = fake_gfx(self)
end

return F
