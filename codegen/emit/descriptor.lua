-- gen/<p>.descriptor.{c,h}: the index reflection answers from for a
-- service's proto file, its imports and the runtime's built-in contracts
-- (health, reflection, google.rpc): each file's serialized
-- FileDescriptorProto (with comments), its imports, every symbol and
-- extension, so grpcurl works without -proto flags and the daemon never
-- parses a descriptor. The files' bytes are emitted once for all services,
-- in gen/descriptor_files.{c,h} (emit_shared): most are common to both.
local c = require("emit.c")
local wire = require("parse.wire")
local descriptor = require("parse.descriptor")

local M = {}

function M.symbol(file) return file.base:gsub("[^%w]", "_") .. "_descriptors" end

local function blob_symbol(name) return "descriptor_file_" .. name:gsub("[^%w]", "_") end

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

-- Every name a reflection client may ask for, with its file index;
-- extensions as { extendee, number, file }.
local function collect(set)
  local symbols, extensions = {}, {}
  for i, file in ipairs(set.file or {}) do
    local fi = i - 1
    local function add(name) symbols[#symbols + 1] = { name = name, file = fi } end
    local function add_extensions(list, scope)
      for _, x in ipairs(list or {}) do
        add(scope .. x.name)
        extensions[#extensions + 1] = { extendee = x.extendee:gsub("^%.", ""), number = x.number, file = fi }
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
  end
  table.sort(symbols, function(a, b) return a.name < b.name end)
  for i = 2, #symbols do
    if symbols[i].name == symbols[i - 1].name then error("symbol " .. symbols[i].name .. " defined twice", 0) end
  end
  return symbols, extensions
end

local function services_of(set)
  local list = {}
  for _, file in ipairs(set.file or {}) do
    for _, s in ipairs(file.service or {}) do list[#list + 1] = (file.package and file.package .. "." or "") .. s.name end
  end
  table.sort(list)
  return list
end

local function byte_rows(bytes)
  local lines = {}
  for i = 1, #bytes, 12 do
    local row = {}
    for j = i, math.min(i + 11, #bytes) do row[#row + 1] = ("0x%02x,"):format(bytes:byte(j)) end
    lines[#lines + 1] = "    " .. table.concat(row, " ") .. "\n"
  end
  return table.concat(lines)
end

-- bytes: the serialized set, as protoc wrote it. Each file's bytes go into
-- shared (name -> bytes) for emit_shared.
function M.emit(file, bytes, shared)
  if #file.services == 0 then return {} end
  local sources = { file.path }
  for _, p in ipairs(file.imports) do sources[#sources + 1] = p end
  local sym = M.symbol(file)
  local set = descriptor.decode(bytes, descriptor.SCHEMA, "FileDescriptorSet")
  local index_of = {}
  for i, f in ipairs(set.file or {}) do index_of[f.name] = i - 1 end
  local header_body = c.comment(("The descriptors %s's daemon serves through reflection: %s, its imports and the "
      .. "built-in contracts, with source comments (protoc --include_imports --include_source_info), indexed."):format(
      file.name, file.name))
    .. ("extern const rt_descriptor_index %s;\n"):format(sym)

  local files, deps = {}, {}
  for i, range in ipairs(slices(bytes)) do
    local f = set.file[i]
    local first = #deps
    for _, d in ipairs(f.dependency or {}) do
      deps[#deps + 1] = ("%d,"):format(assert(index_of[d], "import " .. d .. " missing from the set"))
    end
    local blob = bytes:sub(range.offset + 1, range.offset + range.length)
    if shared[f.name] and shared[f.name] ~= blob then
      error(f.name .. " serializes differently in two services' descriptor sets", 0)
    end
    shared[f.name] = blob
    files[#files + 1] = ("    {%s, %s,\n     sizeof %s, %d, %d},\n"):format(c.string(f.name),
      blob_symbol(f.name), blob_symbol(f.name), first, #deps - first)
  end
  local symbols, extensions = collect(set)
  local symbol_rows, extension_rows, service_rows = {}, {}, {}
  for i, s in ipairs(symbols) do symbol_rows[i] = ("    {%s, %d},\n"):format(c.string(s.name), s.file) end
  for i, x in ipairs(extensions) do
    extension_rows[i] = ("    {%s, %d, %d},\n"):format(c.string(x.extendee), x.number, x.file)
  end
  for i, s in ipairs(services_of(set)) do service_rows[i] = "    " .. c.string(s) .. ",\n" end
  local body = table.concat({
    ("static const rt_descriptor_file files[] = {\n%s};\n\n"):format(table.concat(files)),
    ("static const size_t deps[] = {\n    %s\n};\n\n"):format(
      table.concat(c.wrap(table.concat(deps, " "), c.WIDTH - 4), "\n    ")),
    ("static const rt_descriptor_symbol symbols[] = {\n%s};\n\n"):format(table.concat(symbol_rows)),
    ("static const rt_descriptor_extension extensions[] = {\n%s};\n\n"):format(table.concat(extension_rows)),
    ("static const char *const services[] = {\n%s};\n\n"):format(table.concat(service_rows)),
    ("const rt_descriptor_index %s = {\n"):format(sym),
    "    .files = files,\n    .n_files = sizeof files / sizeof files[0],\n    .deps = deps,\n",
    "    .symbols = symbols,\n    .n_symbols = sizeof symbols / sizeof symbols[0],\n",
    "    .extensions = extensions,\n    .n_extensions = sizeof extensions / sizeof extensions[0],\n",
    "    .services = services,\n    .n_services = sizeof services / sizeof services[0],\n};\n",
  })
  local base = file.base .. ".descriptor"
  return {
    { base .. ".h", c.header(base .. ".h", sources, { "descriptor_index.h" }, header_body) },
    { base .. ".c", c.source(sources, base .. ".h", { "descriptor_files.h" }, body) },
  }
end

-- gen/descriptor_files.{c,h}: every file's serialized FileDescriptorProto
-- that some service's index refers to, each once, in name order.
function M.emit_shared(shared, sources)
  local names = {}
  for name in pairs(shared) do names[#names + 1] = name end
  table.sort(names)
  local decls, defs = {}, {}
  for _, name in ipairs(names) do
    decls[#decls + 1] = ("extern const uint8_t %s[%d];\n"):format(blob_symbol(name), #shared[name])
    defs[#defs + 1] = ("const uint8_t %s[%d] = {\n%s};\n"):format(blob_symbol(name), #shared[name],
      byte_rows(shared[name]))
  end
  local header_body = c.comment("The serialized FileDescriptorProto of every file the daemons serve through "
      .. "reflection (protoc --include_source_info), one array per file; the per-service indexes "
      .. "(<p>.descriptor.h) point into these.") .. table.concat(decls)
  return {
    { "descriptor_files.h", c.header("descriptor_files.h", sources, { "<stdint.h>" }, header_body) },
    { "descriptor_files.c", c.source(sources, "descriptor_files.h", {}, table.concat(defs, "\n")) },
  }
end

return M
