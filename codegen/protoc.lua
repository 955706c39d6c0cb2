-- Runs protoc: descriptor sets for the model and for embedding, and protoc-c's
-- C output. The system include dir supplies google/protobuf/descriptor.proto
-- (which rules.proto imports), any.proto and duration.proto (which
-- google/rpc imports); Debian's grpc-proto supplies the health and reflection
-- contracts the runtime serves next to every daemon's own service.
local util = require("util")

local M = {}

M.SYSTEM_INCLUDE = "/usr/include"
M.GRPC_INCLUDE = "/usr/share/grpc-proto"
M.DESCRIPTOR_PROTO = "google/protobuf/descriptor.proto"

-- The contracts of the runtime's built-in services and error details, as
-- import paths; every daemon's embedded descriptor set carries them.
M.BUILTIN = { "grpc/health/v1/health.proto", "grpc/reflection/v1/reflection.proto",
  "grpc/reflection/v1alpha/reflection.proto", "google/rpc/status.proto", "google/rpc/error_details.proto" }
-- Those the runtime encodes or decodes, with the imports their C code
-- includes: protoc-c compiles these. v1alpha reflection is served as a
-- descriptor only; its messages are v1's, byte for byte.
M.BUILTIN_C = { "grpc/health/v1/health.proto", "grpc/reflection/v1/reflection.proto", "google/rpc/status.proto",
  "google/rpc/error_details.proto", "google/protobuf/any.proto", "google/protobuf/duration.proto",
  M.DESCRIPTOR_PROTO }

local function base_cmd(proto_dir)
  return ("protoc -I%s -I%s -I%s"):format(util.shell_quote(proto_dir), util.shell_quote(M.SYSTEM_INCLUDE),
    util.shell_quote(M.GRPC_INCLUDE))
end

-- The Debian package that ships each system include dir, for the error a
-- missing built-in import raises.
local PACKAGE_OF = { [M.SYSTEM_INCLUDE] = "libprotobuf-dev", [M.GRPC_INCLUDE] = "grpc-proto" }

-- Where the import path n lives: the project's proto dir first, then the
-- system dirs. A built-in contract that is nowhere stops the generator: a
-- descriptor set silently missing it would differ from the committed gen/.
local function find_import(proto_dir, n)
  for _, dir in ipairs({ proto_dir, M.SYSTEM_INCLUDE, M.GRPC_INCLUDE }) do
    local f = io.open(util.join(dir, n), "rb")
    if f then
      f:close()
      return util.join(dir, n)
    end
  end
  local home = n:match("^grpc/") and M.GRPC_INCLUDE or M.SYSTEM_INCLUDE
  error(("protoc: %s not found in %s, %s or %s; install Debian's %s (scripts/deps.sh does)"):format(
    n, proto_dir, M.SYSTEM_INCLUDE, M.GRPC_INCLUDE, PACKAGE_OF[home]), 0)
end

-- names relative to proto_dir; import paths (builtin) are found in whichever
-- include dir holds them, as protoc wants a file path for each input.
local function paths(proto_dir, names, imports)
  local list = {}
  for i, n in ipairs(names) do list[i] = util.shell_quote(util.join(proto_dir, n)) end
  for _, n in ipairs(imports or {}) do list[#list + 1] = util.shell_quote(find_import(proto_dir, n)) end
  return table.concat(list, " ")
end

-- The serialized FileDescriptorSet of names (relative to proto_dir), the
-- import paths in imports, and everything they import, with source comments.
function M.descriptor_set(proto_dir, names, tmp_dir, imports)
  local out = util.join(tmp_dir, "set-" .. table.concat(names, "+"):gsub("[^%w.+-]", "_")
    .. (imports and "+builtin" or "") .. ".pb")
  util.run(("%s --include_imports --include_source_info --descriptor_set_out=%s %s"):format(
    base_cmd(proto_dir), util.shell_quote(out), paths(proto_dir, names, imports)))
  return util.read_file(out)
end

-- The released-contract form of names (relative to proto_dir): their
-- FileDescriptorSet without imports or source info, so it changes only when
-- the contract does (comments and layout are not part of it).
function M.released_set(proto_dir, names, tmp_dir)
  local out = util.join(tmp_dir, "released.pb")
  util.run(("%s --descriptor_set_out=%s %s"):format(base_cmd(proto_dir), util.shell_quote(out),
    paths(proto_dir, names)))
  return util.read_file(out)
end

-- Runs protoc-c on names (relative to proto_dir) and the import paths in
-- imports, in a fresh dir below tmp_dir; returns { [relative path] = content }.
local function run_c(proto_dir, names, imports, tmp_dir, sub)
  local out_dir = util.join(tmp_dir, sub)
  os.execute("mkdir -p " .. util.shell_quote(out_dir))
  util.run(("%s --c_out=%s %s"):format(base_cmd(proto_dir), util.shell_quote(out_dir),
    paths(proto_dir, names, imports)))
  local files = {}
  for _, rel in ipairs(util.list_files(out_dir)) do files[rel] = util.read_file(util.join(out_dir, rel)) end
  return files
end

-- protoc-c's files for names plus the system imports names use (e.g.
-- google/protobuf/wrappers.proto) that are not built in, for gen/.
function M.c_files(proto_dir, names, tmp_dir, system_imports)
  local builtin, imports = {}, {}
  for _, n in ipairs(M.BUILTIN_C) do builtin[n] = true end
  for _, n in ipairs(system_imports or {}) do
    if not builtin[n] then imports[#imports + 1] = n end
  end
  return run_c(proto_dir, names, imports, tmp_dir, "c_out")
end

-- protoc-c's files for the built-in contracts (BUILTIN_C), which the runtime
-- owns: they go to runtime/proto, so libruntime needs nothing from gen/.
function M.builtin_c_files(proto_dir, tmp_dir)
  return run_c(proto_dir, {}, M.BUILTIN_C, tmp_dir, "builtin_c_out")
end

return M
