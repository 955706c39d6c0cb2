-- gen/<p>.descriptor.{c,h}: the index reflection answers from for a
-- service's proto file, its imports and the runtime's built-in contracts
-- (health, reflection, google.rpc): the files and their imports, so grpcurl
-- works without -proto flags and the daemon never parses a descriptor.
-- What each file contributes (its serialized FileDescriptorProto with
-- comments, every symbol and extension it defines) is emitted once for all
-- services, in gen/descriptor_files.{c,h} (emit_shared): most files are
-- common to both.
local c = require("emit.c")
local wire = require("parse.wire")
local descriptor = require("parse.descriptor")

local M = {}

function M.symbol(file) return file.base:gsub("[^%w]", "_") .. "_descriptors" end

local function file_symbol(name) return "descriptor_file_" .. name:gsub("[^%w]", "_") end

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

local function byte_rows(bytes)
  local lines = {}
  for i = 1, #bytes, 12 do
    local row = {}
    for j = i, math.min(i + 11, #bytes) do row[#row + 1] = ("0x%02x,"):format(bytes:byte(j)) end
    lines[#lines + 1] = "    " .. table.concat(row, " ") .. "\n"
  end
  return table.concat(lines)
end

-- bytes: the serialized set, as protoc wrote it. Each file goes into shared
-- (name -> { bytes, file }) for emit_shared.
local function emit_file(file, bytes, shared)
  if #file.services == 0 then return {} end
  local sources = { file.path }
  for _, p in ipairs(file.imports) do sources[#sources + 1] = p end
  local sym = M.symbol(file)
  local set = descriptor.decode(bytes, descriptor.SCHEMA, "FileDescriptorSet")
  check_unique(set)
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
    if shared[f.name] and shared[f.name].bytes ~= blob then
      error(f.name .. " serializes differently in two services' descriptor sets", 0)
    end
    shared[f.name] = { bytes = blob, file = f }
    local row = ("    {%s, &%s, %d, %d},\n"):format(c.string(f.name), file_symbol(f.name), first, #deps - first)
    if #row > c.WIDTH + 1 then
      row = ("    {%s,\n     &%s, %d, %d},\n"):format(c.string(f.name), file_symbol(f.name), first, #deps - first)
    end
    files[#files + 1] = row
  end
  local service_rows = {}
  for i, s in ipairs(services_of(set)) do service_rows[i] = "    " .. c.string(s) .. ",\n" end
  local body = table.concat({
    ("static const rt_descriptor_file files[] = {\n%s};\n\n"):format(table.concat(files)),
    ("static const size_t deps[] = {\n    %s\n};\n\n"):format(
      table.concat(c.wrap(table.concat(deps, " "), c.WIDTH - 4), "\n    ")),
    ("static const char *const services[] = {\n%s};\n\n"):format(table.concat(service_rows)),
    ("const rt_descriptor_index %s = {\n"):format(sym),
    "    .files = files,\n    .n_files = sizeof files / sizeof files[0],\n    .deps = deps,\n",
    "    .services = services,\n    .n_services = sizeof services / sizeof services[0],\n};\n",
  })
  local base = file.base .. ".descriptor"
  return {
    { base .. ".h", c.header(base .. ".h", sources, { "descriptor_index.h" }, header_body) },
    { base .. ".c", c.source(sources, base .. ".h", { "descriptor_files.h" }, body) },
  }
end

-- gen/descriptor_files.{c,h}: what every file some service's index refers
-- to contributes (its bytes, symbols and extensions), each once, in name
-- order.
local function emit_shared(shared, sources)
  local names = {}
  for name in pairs(shared) do names[#names + 1] = name end
  table.sort(names)
  local decls, defs = {}, {}
  for _, name in ipairs(names) do
    local id, part = file_symbol(name), name:gsub("[^%w]", "_")
    local symbols, extensions = collect(shared[name].file)
    local symbol_rows, extension_rows = {}, {}
    for i, s in ipairs(symbols) do symbol_rows[i] = "    " .. c.string(s) .. ",\n" end
    for i, x in ipairs(extensions) do
      extension_rows[i] = ("    {%s, %d},\n"):format(c.string(x.extendee), x.number)
    end
    local function array(what, n) return ("    .%s = %s_%s,\n    .n_%s = %d,\n"):format(what, part, what, what, n) end
    decls[#decls + 1] = ("extern const rt_descriptor_file_data %s;\n"):format(id)
    defs[#defs + 1] = table.concat({
      ("static const uint8_t %s_bytes[%d] = {\n%s};\n\n"):format(part, #shared[name].bytes,
        byte_rows(shared[name].bytes)),
      ("static const char *const %s_symbols[] = {\n%s};\n\n"):format(part, table.concat(symbol_rows)),
      #extensions > 0 and ("static const rt_descriptor_extension %s_extensions[] = {\n%s};\n\n"):format(part,
        table.concat(extension_rows)) or "",
      ("const rt_descriptor_file_data %s = {\n"):format(id),
      ("    .bytes = %s_bytes,\n    .length = sizeof %s_bytes,\n"):format(part, part),
      array("symbols", #symbols),
      #extensions > 0 and array("extensions", #extensions) or "",
      "};\n",
    })
  end
  local header_body = c.comment("What each file the daemons serve through reflection contributes: its "
      .. "serialized FileDescriptorProto (protoc --include_source_info) and the symbols and extensions it "
      .. "defines, one rt_descriptor_file_data per file; the per-service indexes (<p>.descriptor.h) point at "
      .. "these.") .. table.concat(decls)
  return {
    { "descriptor_files.h", c.header("descriptor_files.h", sources, { "descriptor_index.h" }, header_body) },
    { "descriptor_files.c", c.source(sources, "descriptor_files.h", {}, table.concat(defs, "\n")) },
  }
end

-- Every service file's index, then the shared file data, from the sets
-- protoc wrote before emitting (model.descriptor_sets, by file name).
function M.emit(model)
  local out, shared, service_paths = {}, {}, {}
  for _, file in ipairs(model.files) do
    if #file.services > 0 then
      for _, pair in ipairs(emit_file(file, model.descriptor_sets[file.name], shared)) do out[#out + 1] = pair end
      service_paths[#service_paths + 1] = file.path
    end
  end
  for _, pair in ipairs(emit_shared(shared, service_paths)) do out[#out + 1] = pair end
  return out
end

return M
