-- Runs protoc: descriptor sets for the model and for embedding, and protoc-c's
-- C output. The system include dir supplies google/protobuf/descriptor.proto,
-- which rules.proto imports.
local util = require("util")

local M = {}

M.SYSTEM_INCLUDE = "/usr/include"
M.DESCRIPTOR_PROTO = "google/protobuf/descriptor.proto"

local function base_cmd(proto_dir)
  return ("protoc -I%s -I%s"):format(util.shell_quote(proto_dir), util.shell_quote(M.SYSTEM_INCLUDE))
end

local function paths(proto_dir, names)
  local list = {}
  for i, n in ipairs(names) do list[i] = util.shell_quote(util.join(proto_dir, n)) end
  return table.concat(list, " ")
end

-- The serialized FileDescriptorSet of names (relative to proto_dir) and
-- everything they import, with source comments.
function M.descriptor_set(proto_dir, names, tmp_dir)
  local out = util.join(tmp_dir, "set-" .. table.concat(names, "+"):gsub("[^%w.+-]", "_") .. ".pb")
  util.run(("%s --include_imports --include_source_info --descriptor_set_out=%s %s"):format(
    base_cmd(proto_dir), util.shell_quote(out), paths(proto_dir, names)))
  return util.read_file(out)
end

-- protoc-c's files for names plus descriptor.proto, as { [relative path] = content }.
function M.c_files(proto_dir, names, tmp_dir)
  local out_dir = util.join(tmp_dir, "c_out")
  os.execute("mkdir -p " .. util.shell_quote(out_dir))
  util.run(("%s --c_out=%s %s %s"):format(base_cmd(proto_dir), util.shell_quote(out_dir), paths(proto_dir, names),
    util.shell_quote(util.join(M.SYSTEM_INCLUDE, M.DESCRIPTOR_PROTO))))
  local files = {}
  for _, rel in ipairs(util.list_files(out_dir)) do files[rel] = util.read_file(util.join(out_dir, rel)) end
  return files
end

return M
