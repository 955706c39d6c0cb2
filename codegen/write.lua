-- Writes generated files only when their bytes change, so make sees no new
-- mtimes after a no-op regen, and removes files of a previous run that this
-- run no longer produces.
local util = require("util")

local M = {}

local function read_or_nil(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local data = f:read("a")
  f:close()
  return data
end

local function ensure_dir(path)
  local dir = path:match("^(.*)/[^/]*$")
  if dir and dir ~= "" then os.execute("mkdir -p " .. util.shell_quote(dir)) end
end

-- Returns true when the file was (re)written.
function M.write_if_changed(path, content)
  if read_or_nil(path) == content then return false end
  ensure_dir(path)
  -- write then rename, so an interrupted regen never leaves half a file
  local tmp = path .. ".tmp"
  local f = assert(io.open(tmp, "wb"))
  f:write(content)
  f:close()
  assert(os.rename(tmp, path))
  return true
end

-- files: { [relative path] = content }. Writes the changed ones below dir
-- and deletes every other file there. Returns written, removed (sorted lists).
function M.sync_dir(dir, files)
  local written, removed = {}, {}
  for _, rel in ipairs(util.sorted_keys(files)) do
    if M.write_if_changed(util.join(dir, rel), files[rel]) then written[#written + 1] = rel end
  end
  for _, rel in ipairs(util.list_files(dir)) do
    if files[rel] == nil then
      os.remove(util.join(dir, rel))
      removed[#removed + 1] = rel
    end
  end
  os.execute("find " .. util.shell_quote(dir) .. " -mindepth 1 -type d -empty -delete 2>/dev/null")
  return written, removed
end

return M
