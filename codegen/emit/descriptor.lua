-- gen/<p>.descriptor.{c,h}: the index reflection answers from for a
-- service's proto file, its imports and the runtime's built-in contracts
-- (health, reflection, google.rpc): the files and their imports, so grpcurl
-- works without -proto flags and the daemon never parses a descriptor.
-- What each file contributes (its serialized FileDescriptorProto with
-- comments, every symbol and extension it defines) is emitted once for all
-- services, in gen/descriptor_files.{c,h} (emit_shared): most files are
-- common to both.
local c = require("emit.c")
local template = require("template")
local descriptor_set = require("parse.descriptor_set")

local M = {}

function M.symbol(file) return file.base:gsub("[^%w]", "_") .. "_descriptors" end

local function file_symbol(name) return "descriptor_file_" .. name:gsub("[^%w]", "_") end

local function byte_rows(bytes)
  local lines = {}
  for i = 1, #bytes, 12 do
    local row = {}
    for j = i, math.min(i + 11, #bytes) do row[#row + 1] = ("0x%02x,"):format(bytes:byte(j)) end
    lines[#lines + 1] = "    " .. table.concat(row, " ") .. "\n"
  end
  return table.concat(lines)
end

local INDEX_HEADER = [[
$doc$
extern const rt_descriptor_index $index$;
]]

local INDEX = [[
static const rt_descriptor_file files[] = {
$files$};

static const size_t deps[] = {
    $deps$
};

static const char *const services[] = {
$services$};

const rt_descriptor_index $index$ = {
    .files = files,
    .n_files = sizeof files / sizeof files[0],
    .deps = deps,
    .services = services,
    .n_services = sizeof services / sizeof services[0],
};
]]

-- One row of files[]: its name, its data and its slice of deps[].
local function file_row(f, first)
  local row = ("    {%s, &%s, %d, %d},\n"):format(c.string(f.name), file_symbol(f.name), first, #f.deps)
  if #row <= c.WIDTH + 1 then return row end
  return ("    {%s,\n     &%s, %d, %d},\n"):format(c.string(f.name), file_symbol(f.name), first, #f.deps)
end

-- gen/<p>.descriptor.{c,h} of a service file, from its read set (parse/descriptor_set.lua).
local function emit_index(file, set)
  local sources = { file.path }
  for _, p in ipairs(file.imports) do sources[#sources + 1] = p end
  local index = M.symbol(file)
  local files, deps, services = {}, {}, {}
  for _, f in ipairs(set.files) do
    files[#files + 1] = file_row(f, #deps)
    for _, d in ipairs(f.deps) do deps[#deps + 1] = d .. "," end
  end
  for i, name in ipairs(set.services) do services[i] = "    " .. c.string(name) .. ",\n" end
  local header_body = template.render(INDEX_HEADER, { index = index, doc = c.comment(("The descriptors %s's "
    .. "daemon serves through reflection: %s, its imports and the built-in contracts, with source comments "
    .. "(protoc --include_imports --include_source_info), indexed."):format(file.name, file.name)) })
  local body = template.render(INDEX, { index = index, files = table.concat(files), services = table.concat(services),
    deps = table.concat(c.wrap(table.concat(deps, " "), c.WIDTH - 4), "\n") })
  local base = file.base .. ".descriptor"
  return {
    { base .. ".h", c.header(base .. ".h", sources, { "descriptor_index.h" }, header_body) },
    { base .. ".c", c.source(sources, base .. ".h", { "descriptor_files.h" }, body) },
  }
end

local FILE_DATA = [[
static const uint8_t $part$_bytes[$length$] = {
$bytes$};

static const char *const $part$_symbols[] = {
$symbols$};

$extensions_array$
const rt_descriptor_file_data $id$ = {
    .bytes = $part$_bytes,
    .length = sizeof $part$_bytes,
    .symbols = $part$_symbols,
    .n_symbols = $n_symbols$,
    $extensions_fields$
};
]]

local EXTENSIONS_ARRAY = [[
static const rt_descriptor_extension $part$_extensions[] = {
$rows$};

]]

local EXTENSIONS_FIELDS = [[
.extensions = $part$_extensions,
.n_extensions = $n$,
]]

-- gen/descriptor_files.{c,h}: what every file some service's index refers
-- to contributes (its bytes, symbols and extensions), each once, in name
-- order.
local function emit_shared(shared, sources)
  local decls, defs = {}, {}
  for _, f in ipairs(shared) do
    local part = f.name:gsub("[^%w]", "_")
    local symbols, extensions = {}, {}
    for i, name in ipairs(f.symbols) do symbols[i] = "    " .. c.string(name) .. ",\n" end
    for i, x in ipairs(f.extensions) do extensions[i] = ("    {%s, %d},\n"):format(c.string(x.extendee), x.number) end
    local has_extensions = #extensions > 0
    decls[#decls + 1] = ("extern const rt_descriptor_file_data %s;\n"):format(file_symbol(f.name))
    defs[#defs + 1] = template.render(FILE_DATA, { part = part, id = file_symbol(f.name), length = #f.bytes,
      bytes = byte_rows(f.bytes), symbols = table.concat(symbols), n_symbols = #f.symbols,
      extensions_array = has_extensions and template.render(EXTENSIONS_ARRAY, { part = part,
        rows = table.concat(extensions) }),
      extensions_fields = has_extensions and template.render(EXTENSIONS_FIELDS, { part = part, n = #extensions }) })
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
  local out, sets, service_paths = {}, {}, {}
  for _, file in ipairs(model.files) do
    if #file.services > 0 then
      local set = descriptor_set.read(model.descriptor_sets[file.name])
      for _, pair in ipairs(emit_index(file, set)) do out[#out + 1] = pair end
      sets[#sets + 1] = set
      service_paths[#service_paths + 1] = file.path
    end
  end
  for _, pair in ipairs(emit_shared(descriptor_set.shared(sets), service_paths)) do out[#out + 1] = pair end
  return out
end

return M
