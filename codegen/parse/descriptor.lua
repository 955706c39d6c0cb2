-- Decodes a FileDescriptorSet (protoc --descriptor_set_out with
-- --include_imports --include_source_info) into plain Lua tables. The part of
-- descriptor.proto we need is spelled out below as a schema; custom options
-- (proto/rules.proto) arrive as unknown fields of the *Options messages and are
-- decoded with the extension definitions found in the same set, so a new rule
-- added to rules.proto needs no change here.
local wire = require("parse.wire")

local M = {}

-- Field type numbers of FieldDescriptorProto.Type.
local TYPE_NAMES = {
  [1] = "double", [2] = "float", [3] = "int64", [4] = "uint64", [5] = "int32",
  [6] = "fixed64", [7] = "fixed32", [8] = "bool", [9] = "string", [10] = "group",
  [11] = "message", [12] = "bytes", [13] = "uint32", [14] = "enum",
  [15] = "sfixed32", [16] = "sfixed64", [17] = "sint32", [18] = "sint64",
}
M.TYPE_NAMES = TYPE_NAMES

local function f(name, kind, extra)
  local spec = { name = name, kind = kind }
  for k, v in pairs(extra or {}) do spec[k] = v end
  return spec
end
local function rep(name, kind, msg) return f(name, kind, { repeated = true, msg = msg }) end
local function msg(name, m) return f(name, "message", { msg = m }) end

-- The subset of google/protobuf/descriptor.proto the generator reads.
local SCHEMA = {
  FileDescriptorSet = { [1] = rep("file", "message", "FileDescriptorProto") },
  FileDescriptorProto = {
    [1] = f("name", "string"), [2] = f("package", "string"), [3] = rep("dependency", "string"),
    [4] = rep("message_type", "message", "DescriptorProto"),
    [5] = rep("enum_type", "message", "EnumDescriptorProto"),
    [6] = rep("service", "message", "ServiceDescriptorProto"),
    [7] = rep("extension", "message", "FieldDescriptorProto"),
    [8] = msg("options", "Options"), [9] = msg("source_code_info", "SourceCodeInfo"),
    [12] = f("syntax", "string"),
  },
  DescriptorProto = {
    [1] = f("name", "string"), [2] = rep("field", "message", "FieldDescriptorProto"),
    [3] = rep("nested_type", "message", "DescriptorProto"),
    [4] = rep("enum_type", "message", "EnumDescriptorProto"),
    [6] = rep("extension", "message", "FieldDescriptorProto"),
    [7] = msg("options", "Options"),
    [8] = rep("oneof_decl", "message", "OneofDescriptorProto"),
    [9] = rep("reserved_range", "message", "ReservedRange"), [10] = rep("reserved_name", "string"),
  },
  -- [start, end) for messages; [start, end] for enums (EnumReservedRange).
  ReservedRange = { [1] = f("start", "int32"), [2] = f("end", "int32") },
  FieldDescriptorProto = {
    [1] = f("name", "string"), [2] = f("extendee", "string"), [3] = f("number", "int32"),
    [4] = f("label", "enum"), [5] = f("type", "enum"), [6] = f("type_name", "string"),
    [7] = f("default_value", "string"), [8] = msg("options", "Options"),
    [9] = f("oneof_index", "int32"), [10] = f("json_name", "string"),
    [17] = f("proto3_optional", "bool"),
  },
  OneofDescriptorProto = { [1] = f("name", "string") },
  EnumDescriptorProto = {
    [1] = f("name", "string"), [2] = rep("value", "message", "EnumValueDescriptorProto"),
    [4] = rep("reserved_range", "message", "ReservedRange"), [5] = rep("reserved_name", "string"),
  },
  EnumValueDescriptorProto = { [1] = f("name", "string"), [2] = f("number", "int32") },
  ServiceDescriptorProto = {
    [1] = f("name", "string"), [2] = rep("method", "message", "MethodDescriptorProto"),
    [3] = msg("options", "Options"),
  },
  MethodDescriptorProto = {
    [1] = f("name", "string"), [2] = f("input_type", "string"), [3] = f("output_type", "string"),
    [4] = msg("options", "Options"), [5] = f("client_streaming", "bool"),
    [6] = f("server_streaming", "bool"),
  },
  -- Standard options are not needed; everything lands in _unknown for
  -- extension resolution (deprecated etc. would just be ignored there).
  Options = {},
  SourceCodeInfo = { [1] = rep("location", "message", "Location") },
  Location = {
    [1] = rep("path", "int32"), [2] = rep("span", "int32"), [3] = f("leading_comments", "string"),
    [4] = f("trailing_comments", "string"),
  },
}
M.SCHEMA = SCHEMA

local function zigzag(v) return (v >> 1) ~ -(v & 1) end

-- Converts one raw wire value to the Lua value of a scalar kind.
local function scalar(kind, wt, raw)
  if wt == wire.VARINT then
    if kind == "int32" or kind == "enum" then return wire.to_int32(raw)
    elseif kind == "uint32" then return wire.to_uint32(raw)
    elseif kind == "bool" then return raw ~= 0
    elseif kind == "sint32" or kind == "sint64" then return zigzag(raw)
    elseif kind == "int64" or kind == "uint64" then return raw end
  elseif wt == wire.FIXED32 then
    local fmt = ({ fixed32 = "<I4", sfixed32 = "<i4", float = "<f" })[kind]
    if fmt then return (string.unpack(fmt, raw)) end
  elseif wt == wire.FIXED64 then
    local fmt = ({ fixed64 = "<i8", sfixed64 = "<i8", double = "<d" })[kind]
    if fmt then return (string.unpack(fmt, raw)) end
  elseif wt == wire.LEN and (kind == "string" or kind == "bytes") then
    return raw
  end
  error(("wire type %d does not fit a %s field"):format(wt, kind), 0)
end

-- Decodes buf with schemas[name]; fields the schema does not know are kept,
-- raw, in result._unknown (in wire order) for extension resolution.
local function decode(buf, schemas, name)
  local schema = assert(schemas[name], "no schema for " .. name)
  local out = {}
  for number, wt, raw in wire.fields(buf) do
    local spec = schema[number]
    if not spec then
      out._unknown = out._unknown or {}
      table.insert(out._unknown, { number = number, wire_type = wt, value = raw })
    else
      local values
      if spec.kind == "message" then
        values = { decode(raw, schemas, spec.msg) }
      elseif spec.repeated and wt == wire.LEN and spec.kind ~= "string" and spec.kind ~= "bytes" then
        values = {} -- packed
        for _, v in ipairs(wire.unpack_varints(raw)) do values[#values + 1] = scalar(spec.kind, wire.VARINT, v) end
      else
        values = { scalar(spec.kind, wt, raw) }
      end
      if spec.repeated then
        out[spec.name] = out[spec.name] or {}
        for _, v in ipairs(values) do table.insert(out[spec.name], v) end
      else
        out[spec.name] = values[1] -- last one wins, as protobuf says
      end
    end
  end
  return out
end
M.decode = decode

-- Schema of a user message (e.g. ".rules.FieldRules") built from its
-- DescriptorProto, so extension payloads decode like any other message.
local function dynamic_schemas(messages_by_name)
  return setmetatable({}, { __index = function(cache, name)
    local d = messages_by_name[name]
    if not d then return nil end
    local schema = {}
    cache[name] = schema
    for _, fd in ipairs(d.field or {}) do
      local kind = TYPE_NAMES[fd.type]
      schema[fd.number] = { name = fd.name, kind = kind, repeated = fd.label == 3, msg = fd.type_name }
    end
    return schema
  end })
end

-- Replaces options._unknown by options.ext["pkg.name"] = value for every
-- extension of `extendee` defined in the set.
local function resolve_options(options, extendee, extensions, schemas)
  options = options or {}
  options.ext = {}
  for _, u in ipairs(options._unknown or {}) do
    local x = extensions[extendee .. "#" .. u.number]
    if x then
      local kind = TYPE_NAMES[x.type]
      local value
      if kind == "message" then value = decode(u.value, schemas, x.type_name)
      else value = scalar(kind, u.wire_type, u.value) end
      if x.label == 3 then
        options.ext[x.full_name] = options.ext[x.full_name] or {}
        table.insert(options.ext[x.full_name], value)
      else
        options.ext[x.full_name] = value
      end
    end
  end
  options._unknown = nil
  return options
end

-- Per SourceCodeInfo path ("4.0.2.1" = message 0, field 1): the leading
-- comment, trimmed of the one space protoc keeps after "//", and the line
-- the element starts on (for errors that name file:line).
local function source_index(file)
  local comments, lines = {}, {}
  local info = file.source_code_info
  for _, loc in ipairs(info and info.location or {}) do
    local path = table.concat(loc.path or {}, ".")
    if loc.span and loc.span[1] then lines[path] = loc.span[1] + 1 end
    if loc.leading_comments then
      local text = {}
      for line in (loc.leading_comments:gsub("\n$", "") .. "\n"):gmatch("(.-)\n") do
        text[#text + 1] = (line:gsub("^ ", ""):gsub("%s+$", ""))
      end
      comments[path] = table.concat(text, "\n")
    end
  end
  return comments, lines
end

-- Decodes a serialized FileDescriptorSet into
--   { files = { {name, package, dependency, syntax, messages, services, enums}... },
--     messages = { [".pkg.Name"] = message } }
-- with options resolved to options.ext, leading comments as .comment and
-- the line each message, field, enum, enum value, service and method starts
-- on as .line (a file's package statement as .package_line); reserved ranges
-- and names as the descriptor holds them.
function M.parse(buf)
  local set = decode(buf, SCHEMA, "FileDescriptorSet")
  local by_name, extensions = {}, {}

  local function index_extensions(list, prefix)
    for _, x in ipairs(list or {}) do
      x.full_name = (prefix:gsub("^%.", "")) .. "." .. x.name
      extensions[x.extendee .. "#" .. x.number] = x
    end
  end
  local function index_messages(list, prefix)
    for _, m in ipairs(list or {}) do
      m.full_name = prefix .. "." .. m.name
      by_name[m.full_name] = m
      index_extensions(m.extension, m.full_name)
      index_messages(m.nested_type, m.full_name)
    end
  end
  for _, file in ipairs(set.file or {}) do
    local prefix = file.package and ("." .. file.package) or ""
    index_messages(file.message_type, prefix)
    index_extensions(file.extension, prefix)
  end
  local schemas = dynamic_schemas(by_name)

  local files = {}
  for _, file in ipairs(set.file or {}) do
    local comments, lines = source_index(file)
    local function walk_enums(list, path)
      for k, e in ipairs(list or {}) do
        local epath = path .. "." .. (k - 1)
        e.comment, e.line = comments[epath], lines[epath]
        e.values = e.value or {}
        for j, v in ipairs(e.values) do v.line = lines[epath .. ".2." .. (j - 1)] end
      end
    end
    local function walk_message(m, path)
      m.comment, m.line = comments[path], lines[path]
      m.options = resolve_options(m.options, ".google.protobuf.MessageOptions", extensions, schemas)
      m.fields = m.field or {}
      for j, fd in ipairs(m.fields) do
        fd.comment, fd.line = comments[path .. ".2." .. (j - 1)], lines[path .. ".2." .. (j - 1)]
        fd.type_label = TYPE_NAMES[fd.type]
        fd.repeated = fd.label == 3
        fd.options = resolve_options(fd.options, ".google.protobuf.FieldOptions", extensions, schemas)
      end
      for k, nested in ipairs(m.nested_type or {}) do walk_message(nested, path .. ".3." .. (k - 1)) end
      walk_enums(m.enum_type, path .. ".4")
    end
    for i, m in ipairs(file.message_type or {}) do walk_message(m, "4." .. (i - 1)) end
    walk_enums(file.enum_type, "5")
    for i, s in ipairs(file.service or {}) do
      s.comment, s.line = comments["6." .. (i - 1)], lines["6." .. (i - 1)]
      s.full_name = (file.package and file.package .. "." or "") .. s.name
      s.options = resolve_options(s.options, ".google.protobuf.ServiceOptions", extensions, schemas)
      s.methods = s.method or {}
      for j, m in ipairs(s.methods) do
        local path = "6." .. (i - 1) .. ".2." .. (j - 1)
        m.comment, m.line = comments[path], lines[path]
        m.options = resolve_options(m.options, ".google.protobuf.MethodOptions", extensions, schemas)
      end
    end
    files[#files + 1] = {
      name = file.name, package = file.package, syntax = file.syntax or "proto2",
      dependency = file.dependency or {}, messages = file.message_type or {},
      services = file.service or {}, enums = file.enum_type or {}, comment = comments["12"],
      package_line = lines["2"],
    }
  end
  return { files = files, messages = by_name }
end

return M
