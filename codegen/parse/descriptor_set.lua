-- Reads what reflection serves out of a service file's FileDescriptorSet
-- (protoc --include_imports --include_source_info, as protoc wrote it): each
-- file's own serialized bytes, what it imports, the names a reflection
-- client may ask for in it and its extensions, and the services of the set.
-- A set reflection could not answer from (a name defined twice, an import
-- missing) stops the generator here, so the emitter only writes C.
local wire = require("parse.wire")
local descriptor = require("parse.descriptor")

local M = {}

-- Top-level FileDescriptorProto slices of the set: { {offset, length} } (0-based offsets).
local function slices(bytes)
  local list, pos = {}, 1
  while pos <= #bytes do
    local key, len
    key, pos = wire.read_varint(bytes, pos)
    if key ~= (1 << 3 | wire.LEN) then error("unexpected field in a FileDescriptorSet", 0) end
    len, pos = wire.read_varint(bytes, pos)
    list[#list + 1] = { offset = pos - 1, length = len }
    pos = pos + len
  end
  return list
end

-- Every name a reflection client may ask for in one file, sorted; its
-- extensions as { extendee, number }.
local function collect(file)
  local symbols, extensions = {}, {}
  local function add(name) symbols[#symbols + 1] = name end
  local function add_extensions(list, scope)
    for _, x in ipairs(list or {}) do
      add(scope .. x.name)
      extensions[#extensions + 1] = { extendee = x.extendee:gsub("^%.", ""), number = x.number }
    end
  end
  -- Enum values live in the scope enclosing their enum, as in protobuf.
  local function add_enums(list, scope)
    for _, e in ipairs(list or {}) do
      add(scope .. e.name)
      for _, v in ipairs(e.value or {}) do add(scope .. v.name) end
    end
  end
  local function add_messages(list, scope)
    for _, m in ipairs(list or {}) do
      local name = scope .. m.name
      add(name)
      for _, fd in ipairs(m.field or {}) do add(name .. "." .. fd.name) end
      add_enums(m.enum_type, name .. ".")
      add_extensions(m.extension, name .. ".")
      add_messages(m.nested_type, name .. ".")
    end
  end
  local scope = file.package and file.package .. "." or ""
  add_messages(file.message_type, scope)
  add_enums(file.enum_type, scope)
  add_extensions(file.extension, scope)
  for _, s in ipairs(file.service or {}) do
    add(scope .. s.name)
    for _, m in ipairs(s.method or {}) do add(scope .. s.name .. "." .. m.name) end
  end
  table.sort(symbols)
  return symbols, extensions
end

-- A name defined by two files of one set would make reflection ambiguous.
local function check_unique(set)
  local seen = {}
  for _, file in ipairs(set.file or {}) do
    for _, name in ipairs((collect(file))) do
      if seen[name] then error("symbol " .. name .. " defined twice", 0) end
      seen[name] = true
    end
  end
end

local function services_of(set)
  local list = {}
  for _, file in ipairs(set.file or {}) do
    for _, s in ipairs(file.service or {}) do list[#list + 1] = (file.package and file.package .. "." or "") .. s.name end
  end
  table.sort(list)
  return list
end

---@class DescriptorSetFile
---@field name string        "user.proto"
---@field bytes string       its FileDescriptorProto as serialized in the set
---@field proto table        the same, decoded (parse/descriptor.lua's SCHEMA)
---@field deps integer[]     the 0-based indexes in the set of the files it imports
---@field symbols string[]   sorted
---@field extensions { extendee: string, number: integer }[]

-- { files = DescriptorSetFile[] in set order, services = sorted full names }.
function M.read(bytes)
  local set = descriptor.decode(bytes, descriptor.SCHEMA, "FileDescriptorSet")
  check_unique(set)
  local index_of = {}
  for i, f in ipairs(set.file or {}) do index_of[f.name] = i - 1 end
  local files = {}
  for i, range in ipairs(slices(bytes)) do
    local f = set.file[i]
    local deps = {}
    for _, d in ipairs(f.dependency or {}) do
      deps[#deps + 1] = index_of[d] or error("import " .. d .. " of " .. f.name .. " missing from the set", 0)
    end
    local symbols, extensions = collect(f)
    files[i] = { name = f.name, bytes = bytes:sub(range.offset + 1, range.offset + range.length), proto = f,
                 deps = deps, symbols = symbols, extensions = extensions }
  end
  return { files = files, services = services_of(set) }
end

-- The files of several sets (read above), each once, sorted by name; a file
-- that serializes differently in two sets stops the generator.
function M.shared(sets)
  local by_name, names = {}, {}
  for _, set in ipairs(sets) do
    for _, f in ipairs(set.files) do
      local seen = by_name[f.name]
      if seen and seen.bytes ~= f.bytes then
        error(f.name .. " serializes differently in two services' descriptor sets", 0)
      end
      if not seen then by_name[f.name] = f; names[#names + 1] = f.name end
    end
  end
  table.sort(names)
  local list = {}
  for i, name in ipairs(names) do list[i] = by_name[name] end
  return list
end

return M
