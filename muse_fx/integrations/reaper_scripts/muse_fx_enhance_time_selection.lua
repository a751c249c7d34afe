-- @description muse_fx: Enhance time selection on selected tracks
-- @about
--   For every audio item on the selected tracks that overlaps the time selection, runs muse-fx on
--   the overlapping part and places the result, at the same timeline position, on a track named
--   "<track> (muse_fx)" directly below the original (created on first use, reused afterwards).
--   Nothing on the original track changes, so the result can be compared by muting either track.
--   Settings and troubleshooting: README.md next to this script.

local TITLE = "muse_fx: Enhance time selection on selected tracks"
local common = dofile(debug.getinfo(1, "S").source:gsub("^@", ""):match("^(.*[/\\])") .. "muse_fx_common.lua")

local function track_name(track)
  local _, name = reaper.GetSetMediaTrackInfo_String(track, "P_NAME", "", false)
  if name ~= "" then return name end
  return "Track " .. math.floor(reaper.GetMediaTrackInfo_Value(track, "IP_TRACKNUMBER"))
end

--- The "<name> (muse_fx)" track right below `track`; inserted the first time.
local function result_track(track)
  local wanted = track_name(track) .. " (muse_fx)"
  local below = math.floor(reaper.GetMediaTrackInfo_Value(track, "IP_TRACKNUMBER")) -- 1-based, so: next index
  local next_track = reaper.GetTrack(0, below)
  if next_track and track_name(next_track) == wanted then return next_track end
  reaper.InsertTrackAtIndex(below, true)
  local new_track = reaper.GetTrack(0, below)
  reaper.GetSetMediaTrackInfo_String(new_track, "P_NAME", wanted, true)
  return new_track
end

local function add_item(job)
  if not reaper.ValidatePtr2(0, job.track, "MediaTrack*") then
    error("the track was deleted while muse-fx was running", 0)
  end
  local item = reaper.AddMediaItemToTrack(result_track(job.track))
  reaper.SetMediaItemInfo_Value(item, "D_POSITION", job.position)
  reaper.SetMediaItemInfo_Value(item, "D_LENGTH", job.length)
  common.fill_take(reaper.AddTakeToMediaItem(item), job)
  reaper.UpdateItemInProject(item)
  reaper.TrackList_AdjustWindows(false)
end

--- Jobs for the part of each item on `track` that lies inside [t0, t1].
local function plan_track(track, t0, t1, jobs, skipped)
  for i = 0, reaper.CountTrackMediaItems(track) - 1 do
    local item = reaper.GetTrackMediaItem(track, i)
    local position = reaper.GetMediaItemInfo_Value(item, "D_POSITION")
    local a = math.max(t0, position)
    local b = math.min(t1, position + reaper.GetMediaItemInfo_Value(item, "D_LENGTH"))
    if b > a then
      local job, why = common.plan(item, a, b)
      if job then
        job.track = track
        jobs[#jobs + 1] = job
      else
        skipped[#skipped + 1] = { label = common.item_label(item), message = why }
      end
    end
  end
end

local function main()
  local t0, t1 = reaper.GetSet_LoopTimeRange(false, false, 0, 0, false)
  if t1 <= t0 then
    return common.message(TITLE, "Make a time selection first.")
  end
  local tracks = reaper.CountSelectedTracks(0)
  if tracks == 0 then
    return common.message(TITLE, "Select the track to enhance first.")
  end
  local jobs, skipped = {}, {}
  for i = 0, tracks - 1 do
    plan_track(reaper.GetSelectedTrack(0, i), t0, t1, jobs, skipped)
  end
  if #jobs + #skipped == 0 then
    return common.message(TITLE, "No item on the selected tracks overlaps the time selection.")
  end
  common.enhance(TITLE, jobs, skipped, add_item)
end

main()
