-- muse_fx_common.lua: code shared by the muse_fx Reaper actions (loaded with dofile).
--
-- The enhancement itself runs in the `muse-fx` process, so this file only has to:
--   plan   which part of which source file a take plays (source seconds, not timeline seconds),
--   launch `muse-fx enhance` through a small wrapper script without waiting for it,
--   poll   its progress file from a defer loop, so REAPER's UI never freezes,
--   apply  the finished files inside one undo block, and report what went wrong in words.
--
-- Settings live in REAPER's ExtState, section "muse_fx" (see README.md):
--   executable  path of muse-fx (default "muse-fx", found on PATH)
--   server      URL of a muse-fx server; empty = run the model locally
--   preset      preset name; empty = muse-fx's default       } asked for on every run (GetUserInputs);
--   strength    0-1, how far noise may be cut; empty = preset's  } the last answer is kept here
--   mix         0-1, dry/wet; empty = the preset's             }
--   timeout     seconds without any progress before giving up (default 600)

local M = {}

local SECTION = "muse_fx"
-- The wrapper writes its first progress line before muse-fx even starts, so a missing file after
-- this long means the wrapper itself never ran (ExecProcess or the shell failed).
local START_TIMEOUT = 20
local DEFAULT_TIMEOUT = 600

local SEP = package.config:sub(1, 1) -- "\" in REAPER on Windows, "/" elsewhere
local TAKE_SETTINGS = { "D_PLAYRATE", "B_PPITCH", "D_PITCH", "I_PITCHMODE", "I_CHANMODE", "D_VOL", "D_PAN" }

local function is_windows()
  return reaper.GetOS():find("Win") ~= nil
end

local function read_settings()
  local function get(key, default)
    local value = reaper.GetExtState(SECTION, key)
    if value == nil or value == "" then return default end
    return value
  end
  return {
    executable = get("executable", "muse-fx"),
    server = get("server", ""),
    preset = get("preset", ""),
    strength = get("strength", ""),
    mix = get("mix", ""),
    timeout = tonumber(get("timeout", "")) or DEFAULT_TIMEOUT,
  }
end

--------------------------------------------------------------------------------------------- quoting

--- POSIX sh: inside single quotes nothing is special, and ' itself is spelled '\''.
function M.quote_sh(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

--- A cmd.exe batch file passing one argument to a program. Double quotes protect spaces and
--- & | < > ^ ( ); % must still be doubled inside a batch file; trailing backslashes are doubled
--- so the program's argument parser does not read `\"` as an escaped quote. Windows file names
--- cannot contain ", so refusing it loses nothing.
function M.quote_cmd(s)
  if s:find('"', 1, true) or s:find("[\r\n]") then
    error("cannot pass this value to muse-fx on Windows (it contains a quote or a line break): " .. s, 0)
  end
  s = s:gsub("%%", "%%%%"):gsub("(\\+)$", "%1%1")
  return '"' .. s .. '"'
end

--- Text for `echo` in a batch file: ^ escapes cmd's operators and % is doubled; " goes, since
--- inside quotes ^ would be printed instead of escaping.
local function cmd_text(s)
  return (s:gsub('"', "'"):gsub("[%^&|<>()]", "^%0"):gsub("%%", "%%%%"):gsub("[\r\n]", " "))
end

--- Seconds with a "." whatever the C locale says, precise to a microsecond.
local function seconds(x)
  return (string.format("%.6f", x):gsub(",", "."))
end

------------------------------------------------------------------------------------------- planning

local function take_name(take)
  local _, name = reaper.GetSetMediaItemTakeInfo_String(take, "P_NAME", "", false)
  return name
end

local function file_stem(path)
  local name = path:match("([^/\\]+)$") or path
  return (name:gsub("%.[^.]*$", ""))
end

--- How messages name an item: its active take's name, else its position on the timeline.
function M.item_label(item)
  local take = reaper.GetActiveTake(item)
  local name = take and take_name(take) or ""
  if name ~= "" then return name end
  return ("item at %.2f s"):format(reaper.GetMediaItemInfo_Value(item, "D_POSITION"))
end

--- The file behind a source, walking out of section sources (Item properties: "Section", and
--- reversed takes); a section adds its own offset into the parent.
local function source_file(source)
  local offset, parent = 0, reaper.GetMediaSourceParent(source)
  while parent do
    local is_section, section_start, _, reversed = reaper.PCM_Source_GetSectionInfo(source)
    if reversed then return nil, "reversed takes are not supported" end
    if is_section then offset = offset + section_start end
    source, parent = parent, reaper.GetMediaSourceParent(parent)
  end
  local file = reaper.GetMediaSourceFileName(source, "")
  if file == nil or file == "" then return nil, "its take has no source file" end
  return { file = file, offset = offset, length = reaper.GetMediaSourceLength(source) }
end

--- A job enhancing what `item`'s active take plays between timeline seconds t0 and t1.
--- The take plays source seconds D_STARTOFFS + (t - D_POSITION) * D_PLAYRATE, which is what
--- muse-fx's --start/--duration are given. Returns the job, or nil and the reason.
function M.plan(item, t0, t1)
  local take = reaper.GetActiveTake(item)
  if take == nil then return nil, "empty item" end
  if reaper.TakeIsMIDI(take) then return nil, "MIDI take" end
  local src, why = source_file(reaper.GetMediaItemTake_Source(take))
  if not src then return nil, why end

  local kept = {}
  for _, key in ipairs(TAKE_SETTINGS) do
    kept[key] = reaper.GetMediaItemTakeInfo_Value(take, key)
  end
  local rate = kept.D_PLAYRATE
  local position = reaper.GetMediaItemInfo_Value(item, "D_POSITION")
  local start = src.offset + reaper.GetMediaItemTakeInfo_Value(take, "D_STARTOFFS") + (t0 - position) * rate
  -- An item can start before its source (negative offset) or run past its end: only real audio
  -- is sent, and the new take's offset keeps it aligned with the timeline.
  local first = math.max(start, 0)
  local last = math.min(start + (t1 - t0) * rate, src.length)
  if last - first <= 1e-6 then return nil, "it plays no audio from its source there" end

  return {
    item = item, position = t0, length = t1 - t0,
    source = src.file, start = first, duration = last - first, offset = start - first,
    take_settings = kept, name = take_name(take) .. " (muse_fx)", label = M.item_label(item),
  }
end

------------------------------------------------------------------------------------------- files

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function size(path)
  local f = io.open(path, "rb")
  if not f then return 0 end
  local n = f:seek("end")
  f:close()
  return n
end

local function first_line(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local line = f:read("l")
  f:close()
  return line and (line:gsub("\r$", "")) -- a Windows wrapper's echo ends lines with CRLF
end

local function last_line(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local last
  for line in f:lines() do
    if line:find("%S") then last = line end
  end
  f:close()
  return last
end

local function write(path, text)
  local f, why = io.open(path, "wb")
  if not f then error("cannot write " .. why, 0) end
  f:write(text)
  f:close()
end

--- Claims `<dir>/<stem>_enhanced_<n>.wav` for the lowest free n by creating it empty, so neither
--- a later job of this run nor an existing file can be overwritten (muse-fx gets --overwrite for
--- exactly this empty file).
local function reserve_output(dir, stem)
  for n = 1, 100000 do
    local path = dir .. SEP .. stem .. "_enhanced_" .. n .. ".wav"
    if not exists(path) and not exists(path .. ".progress") then
      write(path, "")
      return path
    end
  end
  error("no free output name for " .. stem .. " in " .. dir, 0)
end

local function output_dir()
  local project = reaper.GetProjectPath(""):gsub("[/\\]+$", "")
  local dir = project .. SEP .. "muse_fx"
  reaper.RecursiveCreateDirectory(dir, 0)
  return dir
end

------------------------------------------------------------------------------------------- launching

local function muse_fx_args(job, settings)
  local args = {
    settings.executable, "enhance", job.source, "-o", job.output,
    "--start", seconds(job.start), "--duration", seconds(job.duration),
    "--progress-file", job.progress,
  }
  if settings.server ~= "" then table.insert(args, "--server"); table.insert(args, settings.server) end
  for _, key in ipairs({ "preset", "strength", "mix" }) do
    if settings[key] ~= "" then table.insert(args, "--" .. key); table.insert(args, settings[key]) end
  end
  table.insert(args, "--overwrite")
  return args
end

local function not_found_text(settings)
  return "muse-fx not found (tried: " .. settings.executable .. "). Install it in your clone of "
    .. "muse_fx (pip install -c constraints.txt -e .) or set its full path in ExtState muse_fx/executable, "
    .. "see README"
end

--- Shell wrapper: writes a first progress line at once (proof that the launch worked), and, if
--- muse-fx ends without writing `done` or `error` itself (not installed, crashed), writes the
--- error line on its behalf, so the Lua side always gets an answer.
function M.posix_wrapper(args, job, settings)
  local q, quoted = M.quote_sh, {}
  for i, a in ipairs(args) do quoted[i] = q(a) end
  local p, tmp = q(job.progress), q(job.progress .. ".tmp")
  return table.concat({
    "#!/bin/sh",
    "report() { printf 'error\\t0\\t%s\\n' \"$1\" > " .. tmp .. " && mv -f " .. tmp .. " " .. p .. "; }",
    "printf 'running\\t0\\tstarting muse-fx\\n' > " .. p,
    table.concat(quoted, " ") .. " > /dev/null 2> " .. q(job.log),
    "code=$?",
    "read -r state rest 2> /dev/null < " .. p,
    "case \"$state\" in done|error) exit 0 ;; esac",
    "case $code in",
    "  126|127) report " .. q(not_found_text(settings)) .. " ;;",
    "  *) report \"muse-fx stopped without a result (exit code $code)\" ;;",
    "esac",
    "",
  }, "\n")
end

function M.windows_wrapper(args, job, settings)
  local q, quoted = M.quote_cmd, {}
  for i, a in ipairs(args) do quoted[i] = q(a) end
  local p, tmp = q(job.progress), q(job.progress .. ".tmp")
  return table.concat({
    "@echo off",
    "chcp 65001 > nul",
    "> " .. p .. " echo running\t0\tstarting muse-fx",
    table.concat(quoted, " ") .. " > nul 2> " .. q(job.log),
    "set code=%ERRORLEVEL%",
    "set state=",
    "for /f \"usebackq tokens=1\" %%s in (" .. p .. ") do set state=%%s",
    "if \"%state%\"==\"done\" exit /b 0",
    "if \"%state%\"==\"error\" exit /b 0",
    "if \"%code%\"==\"9009\" goto notfound",
    "> " .. tmp .. " echo error\t0\tmuse-fx stopped without a result (exit code %code%)",
    "goto publish",
    ":notfound",
    "> " .. tmp .. " echo error\t0\t" .. cmd_text(not_found_text(settings)),
    ":publish",
    "move /y " .. tmp .. " " .. p .. " > nul",
    "",
  }, "\r\n")
end

--- Claims an output name for `job` and starts muse-fx on it without waiting; raises an error
--- message when that is impossible.
local function launch(job, dir, settings)
  job.output = reserve_output(dir, file_stem(job.source))
  job.progress, job.log = job.output .. ".progress", job.output .. ".log"
  job.started, job.changed = reaper.time_precise(), reaper.time_precise()
  local windows = is_windows()
  local wrapper = windows and M.windows_wrapper or M.posix_wrapper
  job.script = job.output .. (windows and ".cmd" or ".sh")
  write(job.script, wrapper(muse_fx_args(job, settings), job, settings))
  local command
  if windows then
    -- /S: cmd strips exactly the outer pair of quotes and runs the quoted path as is.
    command = 'cmd.exe /S /C ""' .. job.script .. '""'
  else
    command = '/bin/sh "' .. job.script:gsub('[\\"$`]', "\\%0") .. '"'
  end
  -- -2 (no wait, minimised) keeps a console window from popping up on Windows.
  if reaper.ExecProcess(command, windows and -2 or -1) == nil then
    error("REAPER could not start " .. command, 0)
  end
end

------------------------------------------------------------------------------------------- polling

--- One look at a running job: "running", fraction, message | "done" | "error", message.
local function poll(job, now, settings)
  local line = first_line(job.progress)
  if line == nil then
    if now - job.started > START_TIMEOUT then
      return "error", "muse-fx did not start within " .. START_TIMEOUT .. " s (nothing wrote "
        .. job.progress .. ")"
    end
    return "running", 0, "starting muse-fx"
  end
  if line ~= job.last_line then job.last_line, job.changed = line, now end
  local state, fraction, message = line:match("^(%a+)\t([^\t]*)\t?(.*)$")
  if state == "done" then
    if size(job.output) == 0 then return "error", "muse-fx reported success but wrote no audio" end
    return "done"
  elseif state == "error" then
    return "error", message ~= "" and message or "muse-fx failed"
  elseif now - job.changed > settings.timeout then
    return "error", "no progress from muse-fx for " .. settings.timeout .. " s; gave up waiting"
  end
  return "running", math.max(0, math.min(1, tonumber(fraction) or 0)), message or ""
end

local function settle(job, state, message)
  job.state, job.message = state, message
  if state == "error" then
    local said = last_line(job.log or "")
    if said and not said:find(message, 1, true) and not message:find(said, 1, true) then
      job.message = message .. "\nmuse-fx said: " .. said .. "\n(full log: " .. job.log .. ")"
    end
    if job.output then os.remove(job.output) end
  end
  for _, path in ipairs({ job.script, job.progress, job.progress and job.progress .. ".tmp" }) do
    if path then os.remove(path) end
  end
  if job.log and (state == "done" or size(job.log) == 0) then os.remove(job.log) end
end

------------------------------------------------------------------------------------------- settings dialog

local FIELDS = {
  { key = "preset", caption = "Preset (empty: default)" },
  { key = "strength", label = "Strength", caption = "Strength 0-1 (empty: preset's)",
    what = "0: no noise cut, 1: the model's full reduction" },
  { key = "mix", label = "Mix", caption = "Mix 0-1 (empty: preset's)", what = "0: the original, 1: fully enhanced" },
}

--- A 0-1 field as muse-fx reads it ("0,5" typed in a comma locale is 0.5), or nil and what is wrong.
local function fraction(text, field)
  if text == "" then return "" end
  local number = tonumber((text:gsub(",", ".")))
  if number == nil or number ~= number or number < 0 or number > 1 then
    return nil, ("%s must be a number from 0 to 1 (%s), or empty for the preset's own; got %q.")
      :format(field.label, field.what, text)
  end
  return (string.format("%.6g", number):gsub(",", "."))
end

--- The answer's fields, checked: a table of values, or nil and what is wrong.
local function parse_answer(answer)
  local values, i = {}, 0
  for text in (answer .. "\n"):gmatch("([^\n]*)\n") do
    i = i + 1
    local field = FIELDS[i]
    if not field then break end
    text = text:match("^%s*(.-)%s*$")
    if field.key == "preset" then
      values.preset = text
    else
      local value, why = fraction(text, field)
      if not value then return nil, why end
      values[field.key] = value
    end
  end
  return values
end

--- Asks for preset, strength and mix, starting from the last answer; keeps the new one in ExtState.
--- Returns the settings to run with, or nil when the user cancelled. A wrong value is explained and
--- asked for again, with everything typed still in the fields.
function M.ask_settings(title)
  local settings = read_settings()
  local captions, shown = {}, {}
  for i, field in ipairs(FIELDS) do captions[i], shown[i] = field.caption, settings[field.key] end
  local answer = table.concat(shown, "\n")
  while true do
    local ok
    ok, answer = reaper.GetUserInputs(title, #FIELDS, table.concat(captions, ",") .. ",separator=\n,extrawidth=120",
      answer)
    if not ok then return nil end
    local values, why = parse_answer(answer)
    if values then
      for _, field in ipairs(FIELDS) do
        settings[field.key] = values[field.key]
        reaper.SetExtState(SECTION, field.key, values[field.key], true)
      end
      return settings
    end
    M.message(title, why)
  end
end

------------------------------------------------------------------------------------------- progress UI

local function progress_window(title)
  gfx.init(title, 460, 80)
  local window = {}
  function window.draw(text, fraction)
    gfx.set(0.15, 0.15, 0.15)
    gfx.rect(0, 0, gfx.w, gfx.h, 1)
    gfx.set(0.9, 0.9, 0.9)
    gfx.x, gfx.y = 10, 10
    gfx.drawstr(text)
    gfx.x, gfx.y = 10, 34
    gfx.drawstr("close this window to stop waiting")
    gfx.set(0.3, 0.7, 0.4)
    gfx.rect(10, 58, math.floor((gfx.w - 20) * math.max(0, math.min(1, fraction))), 10, 1)
    gfx.update()
  end
  function window.closed()
    local char = gfx.getchar()
    return char < 0 or char == 27 -- -1: window closed, 27: Escape
  end
  window.close = gfx.quit
  return window
end

------------------------------------------------------------------------------------------- running

--- Runs the jobs one after another (each muse-fx loads the model and wants every core), polling
--- from a defer loop; calls finish() once all are settled or the user closed the window.
local function run(title, jobs, config, finish)
  local window = progress_window(title)
  local index, current = 0, nil

  local function next_job()
    index = index + 1
    current = jobs[index]
    if not current then return end
    local ok, why = pcall(function() launch(current, output_dir(), config) end)
    if not ok then
      settle(current, "error", tostring(why))
      return next_job()
    end
  end

  local function stop()
    window.close()
    finish()
  end

  local function step()
    if window.closed() then
      current.message = "muse-fx may still be running; it writes " .. current.output
      for i = index, #jobs do jobs[i].state = "cancelled" end
      return stop()
    end
    local state, a, b = poll(current, reaper.time_precise(), config)
    if state == "running" then
      window.draw(("%s (%d of %d): %d%% %s"):format(current.label, index, #jobs, math.floor(a * 100), b), a)
      return reaper.defer(step)
    end
    settle(current, state, a)
    next_job()
    if current then return reaper.defer(step) end
    stop()
  end

  next_job()
  if current then return step() end
  stop()
end

------------------------------------------------------------------------------------------- applying

--- Points `take` at the enhanced file. The file holds exactly the source seconds the original
--- played, so the take keeps the playrate (and pitch, channel mode, volume, pan) and starts at 0
--- (or the alignment offset planned above).
function M.fill_take(take, job)
  reaper.SetMediaItemTake_Source(take, reaper.PCM_Source_CreateFromFile(job.output))
  for key, value in pairs(job.take_settings) do
    reaper.SetMediaItemTakeInfo_Value(take, key, value)
  end
  reaper.SetMediaItemTakeInfo_Value(take, "D_STARTOFFS", job.offset)
  reaper.GetSetMediaItemTakeInfo_String(take, "P_NAME", job.name, true)
  reaper.SetActiveTake(take)
end

--- One message box listing everything that did not become new audio; silent when all did.
local function report(title, jobs, skipped)
  local lines, total, failed = {}, #jobs + #skipped, #skipped
  for _, job in ipairs(skipped) do
    lines[#lines + 1] = "- " .. job.label .. ": skipped: " .. job.message
  end
  for _, job in ipairs(jobs) do
    if job.state ~= "done" then
      failed = failed + 1
      lines[#lines + 1] = "- " .. job.label .. ": " .. job.state .. (job.message and (": " .. job.message) or "")
    end
  end
  if failed == 0 then return end
  local head = ("muse_fx enhanced %d of %d items."):format(total - failed, total)
  reaper.ShowMessageBox(head .. "\n\n" .. table.concat(lines, "\n"), title, 0)
end

--- Applies every finished job with apply(job) inside one undo point, then says what failed.
local function finish(title, jobs, skipped, apply)
  local done = {}
  for _, job in ipairs(jobs) do
    if job.state == "done" then done[#done + 1] = job end
  end
  if #done > 0 then
    reaper.Undo_BeginBlock()
    reaper.PreventUIRefresh(1)
    for _, job in ipairs(done) do
      -- A failing job must not leave the undo block open: REAPER would merge later edits into it.
      local ok, why = pcall(apply, job)
      if not ok then job.state, job.message = "error", tostring(why) end
    end
    reaper.PreventUIRefresh(-1)
    reaper.UpdateArrange()
    reaper.Undo_EndBlock(title, -1)
  end
  report(title, jobs, skipped)
end

--- The whole action after planning: ask for the settings, run muse-fx for `jobs`, apply(job) each
--- result inside one undo point, report failures and the `skipped` items ({label=, message=}).
--- A cancelled settings dialog ends the action with nothing changed.
function M.enhance(title, jobs, skipped, apply)
  if #jobs == 0 then return report(title, jobs, skipped) end
  local settings = M.ask_settings(title)
  if not settings then return end
  run(title, jobs, settings, function() finish(title, jobs, skipped, apply) end)
end

function M.message(title, text)
  reaper.ShowMessageBox(text, title, 0)
end

return M
