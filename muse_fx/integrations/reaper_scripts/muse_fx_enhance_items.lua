-- @description muse_fx: Enhance selected items
-- @about
--   Runs muse-fx on the part of its source each selected audio item plays and adds the result
--   as a new active take; the original take stays on the item (switch back with T, or undo).
--   Settings and troubleshooting: README.md next to this script.

local TITLE = "muse_fx: Enhance selected items"
local common = dofile(debug.getinfo(1, "S").source:gsub("^@", ""):match("^(.*[/\\])") .. "muse_fx_common.lua")

local function add_take(job)
  if not reaper.ValidatePtr2(0, job.item, "MediaItem*") then
    error("the item was deleted while muse-fx was running", 0)
  end
  common.fill_take(reaper.AddTakeToMediaItem(job.item), job)
  reaper.UpdateItemInProject(job.item)
end

local function main()
  local count = reaper.CountSelectedMediaItems(0)
  if count == 0 then
    return common.message(TITLE, "Select one or more audio items to enhance first.")
  end
  local jobs, skipped = {}, {}
  for i = 0, count - 1 do
    local item = reaper.GetSelectedMediaItem(0, i)
    local position = reaper.GetMediaItemInfo_Value(item, "D_POSITION")
    local job, why = common.plan(item, position, position + reaper.GetMediaItemInfo_Value(item, "D_LENGTH"))
    if job then
      jobs[#jobs + 1] = job
    else
      skipped[#skipped + 1] = { label = common.item_label(item), message = why }
    end
  end
  common.enhance(TITLE, jobs, skipped, add_take)
end

main()
