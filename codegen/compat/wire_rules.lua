-- The wire/JSON compatibility rules (in the spirit of buf breaking's WIRE_JSON
-- set): what a client built on the released contract would misread or be
-- refused with when the current contract is deployed. check(released,
-- current, files) compares two parsed descriptor sets (parse/descriptor.lua)
-- over the contract's own files and returns the findings, in file order:
--   { file, line, rule, message, safe }
-- Elements are matched by full name, fields and enum values by number: the
-- number is what travels on the wire, the name what travels in JSON.
local util = require("util")

local M = {}

-- Every rule, with the safe way to make the change it refuses.
M.RULES = {
  MESSAGE_NO_DELETE = "keep the message (mark it `option deprecated = true;`) and add the new one beside it",
  ENUM_NO_DELETE = "keep the enum (mark it `option deprecated = true;`) and add the new one beside it",
  SERVICE_NO_DELETE = "keep the service serving (mark it `option deprecated = true;`) until no client calls it, "
    .. "and add the new one beside it",
  RPC_NO_DELETE = "keep the rpc (mark it `option deprecated = true;`) until no client calls it; "
    .. "add the renamed one beside it",
  RPC_SAME_REQUEST_TYPE = "add a new rpc with the new request type and deprecate the old one",
  RPC_SAME_RESPONSE_TYPE = "add a new rpc with the new response type and deprecate the old one",
  RPC_SAME_STREAMING = "add a new rpc with the new streaming kind and deprecate the old one",
  FIELD_NO_DELETE = "remove the field and reserve both its number and its name "
    .. "(`reserved N;` and `reserved \"name\";`), so neither is ever reused",
  FIELD_SAME_NUMBER = "keep the field's number; to move it, add a new field with a new number "
    .. "and reserve the old number and name",
  FIELD_SAME_TYPE = "add a new field (new number) with the new type, deprecate the old one "
    .. "and, once no client sends it, reserve its number and name",
  FIELD_SAME_CARDINALITY = "add a new field (new number) with the new cardinality, deprecate the old one "
    .. "and, once no client sends it, reserve its number and name",
  FIELD_SAME_JSON_NAME = "keep the field's name; to rename it, add a new field with a new number "
    .. "and reserve the old number and name",
  FIELD_SAME_ONEOF = "add a new field (new number) inside or outside the oneof and reserve the old one",
  ENUM_VALUE_NO_DELETE = "remove the value and reserve both its number and its name "
    .. "(`reserved N;` and `reserved \"NAME\";`)",
  ENUM_VALUE_SAME_NAME = "keep the value's name (JSON sends names); add a new value with a new number "
    .. "if the meaning changes",
  RESERVED_NO_DELETE = "keep the reservation: a released client may still send or expect that number or name",
  RESERVED_NO_REUSE = "give the new field or value a new number and a new name; "
    .. "what was reserved stays reserved",
}

-- Plain full name, without protobuf's leading dot.
local function plain(name) return (name or ""):gsub("^%.", "") end

-- Every message, enum and service of the given files, by full name, with the
-- file it is in and (for nested ones) the line of what encloses it.
local function index(set, files)
  local idx = { messages = {}, enums = {}, services = {} }
  local function add_enums(list, scope, file)
    for _, e in ipairs(list or {}) do
      idx.enums[scope .. e.name] = { enum = e, file = file }
    end
  end
  local function add_messages(list, scope, file)
    for _, m in ipairs(list or {}) do
      local name = scope .. m.name
      idx.messages[name] = { message = m, file = file }
      add_enums(m.enum_type, name .. ".", file)
      add_messages(m.nested_type, name .. ".", file)
    end
  end
  for _, file in ipairs(set.files) do
    if files[file.name] then
      local scope = file.package and file.package .. "." or ""
      add_messages(file.messages, scope, file)
      add_enums(file.enums, scope, file)
      for _, s in ipairs(file.services) do idx.services[s.full_name] = { service = s, file = file } end
    end
  end
  return idx
end

-- Reserved numbers and names of a message or enum. Message ranges are
-- [start, end), enum ranges [start, end] (descriptor.proto's convention).
local function reserved(d, inclusive_end)
  local ranges, names = {}, {}
  for _, r in ipairs(d.reserved_range or {}) do
    ranges[#ranges + 1] = { r.start, inclusive_end and r["end"] or r["end"] - 1 }
  end
  for _, n in ipairs(d.reserved_name or {}) do names[n] = true end
  local function has_number(n)
    for _, r in ipairs(ranges) do if n >= r[1] and n <= r[2] then return true end end
    return false
  end
  return { ranges = ranges, names = names, has_number = has_number }
end

local function range_text(r) return r[1] == r[2] and tostring(r[1]) or ("%d to %d"):format(r[1], r[2]) end

-- The same name in another package (a move), for a clearer message.
local function moved_to(idx_kind, full)
  local simple = full:match("([^.]+)$")
  for _, name in ipairs(util.sorted_keys(idx_kind)) do
    if name ~= full and name:match("([^.]+)$") == simple then return name end
  end
end

local function field_type(fd)
  local t = fd.type_label
  if t == "message" or t == "enum" then return plain(fd.type_name) end
  return t
end

local function cardinality(fd) return fd.repeated and "repeated" or "singular" end

-- The oneof a field belongs to (by name), or nil.
local function oneof_of(message, fd)
  if fd.oneof_index == nil or fd.proto3_optional then return nil end
  local o = (message.oneof_decl or {})[fd.oneof_index + 1]
  return o and o.name
end

function M.check(released, current, files)
  local old, new = index(released, files), index(current, files)
  local findings = {}
  local function add(file, line, rule, message)
    findings[#findings + 1] = { file = file.name, line = line or 1, rule = rule, message = message,
                                safe = assert(M.RULES[rule], rule) }
  end
  -- Where a removed top-level element is reported: where it moved to, else
  -- the package statement of the file that held it (line 1 when that file
  -- is gone too).
  local function removed(file, rule, to, message)
    if to then return add(to.file, (to.message or to.enum or to.service).line, rule, message) end
    for _, f in ipairs(current.files) do
      if f.name == file.name then return add(f, f.package_line, rule, message) end
    end
    add(file, 1, rule, message)
  end

  for _, name in ipairs(util.sorted_keys(old.messages)) do
    local o, n = old.messages[name], new.messages[name]
    if not n then
      local to = moved_to(new.messages, name)
      removed(o.file, "MESSAGE_NO_DELETE", new.messages[to], to
        and ("message %s moved to %s: a client that names %s (in an rpc, an Any, reflection) no longer finds it")
          :format(name, to, name)
        or ("message %s was removed or renamed: a client on the released contract still uses it"):format(name))
    else
      M.check_fields(o.message, n.message, name, n.file, add)
    end
  end
  for _, name in ipairs(util.sorted_keys(old.enums)) do
    local o, n = old.enums[name], new.enums[name]
    if not n then
      local to = moved_to(new.enums, name)
      removed(o.file, "ENUM_NO_DELETE", new.enums[to], to
        and ("enum %s moved to %s"):format(name, to)
        or ("enum %s was removed or renamed: a client on the released contract still uses it"):format(name))
    else
      M.check_enum_values(o.enum, n.enum, name, n.file, add)
    end
  end
  for _, name in ipairs(util.sorted_keys(old.services)) do
    local o, n = old.services[name], new.services[name]
    if not n then
      local to = moved_to(new.services, name)
      removed(o.file, "SERVICE_NO_DELETE", new.services[to], to
        and ("service %s moved to %s: every call of a released client (path /%s/...) answers UNIMPLEMENTED")
          :format(name, to, name)
        or ("service %s was removed or renamed: every call of a released client answers UNIMPLEMENTED")
          :format(name))
    else
      M.check_methods(o.service, n.service, name, n.file, add)
    end
  end
  table.sort(findings, function(a, b)
    if a.file ~= b.file then return a.file < b.file end
    if a.line ~= b.line then return a.line < b.line end
    if a.rule ~= b.rule then return a.rule < b.rule end
    return a.message < b.message
  end)
  return findings
end

function M.check_methods(o, n, service, file, add)
  local by_name, by_old = {}, {}
  for _, m in ipairs(n.methods) do by_name[m.name] = m end
  for _, m in ipairs(o.methods) do by_old[m.name] = m end
  for _, om in ipairs(o.methods) do
    local nm = by_name[om.name]
    local path = ("/%s/%s"):format(service, om.name)
    if not nm then
      local hint = ""
      for _, m in ipairs(n.methods) do
        if m.input_type == om.input_type and m.output_type == om.output_type and not by_old[m.name] then
          hint = (" (renamed to %s?)"):format(m.name)
        end
      end
      add(file, n.line, "RPC_NO_DELETE", ("rpc %s was removed%s: released clients calling it get UNIMPLEMENTED")
        :format(path, hint))
    else
      if nm.input_type ~= om.input_type then
        add(file, nm.line, "RPC_SAME_REQUEST_TYPE", ("rpc %s request type changed from %s to %s: released "
          .. "clients send %s"):format(path, plain(om.input_type), plain(nm.input_type), plain(om.input_type)))
      end
      if nm.output_type ~= om.output_type then
        add(file, nm.line, "RPC_SAME_RESPONSE_TYPE", ("rpc %s response type changed from %s to %s: released "
          .. "clients decode %s"):format(path, plain(om.output_type), plain(nm.output_type), plain(om.output_type)))
      end
      local function kind(m)
        return (m.client_streaming and "client-streaming" or "") .. (m.client_streaming and m.server_streaming
          and "+" or "") .. (m.server_streaming and "server-streaming" or "")
      end
      if (nm.client_streaming or false) ~= (om.client_streaming or false)
          or (nm.server_streaming or false) ~= (om.server_streaming or false) then
        local ok, nk = kind(om), kind(nm)
        add(file, nm.line, "RPC_SAME_STREAMING", ("rpc %s changed from %s to %s"):format(path,
          ok == "" and "unary" or ok, nk == "" and "unary" or nk))
      end
    end
  end
end

-- Numbers and names the released element reserved must stay reserved and
-- unused; used(number or name) answers the current element's user of one.
local function check_reserved(o_res, n_res, what, line, file, add, used_number, used_name)
  for _, r in ipairs(o_res.ranges) do
    for n = r[1], math.min(r[2], r[1] + 1000) do
      if not n_res.has_number(n) then
        local user = used_number(n)
        if user then
          add(file, user.line or line, "RESERVED_NO_REUSE", ("%s: %s uses number %d, reserved in the released "
            .. "contract; a released client reads it as the old field"):format(what, user.name, n))
        else
          add(file, line, "RESERVED_NO_DELETE", ("%s: reserved number %s is no longer reserved")
            :format(what, range_text(r)))
        end
        break
      end
    end
  end
  for _, name in ipairs(util.sorted_keys(o_res.names)) do
    if not n_res.names[name] then
      local user = used_name(name)
      if user then
        add(file, user.line or line, "RESERVED_NO_REUSE", ("%s: %s reuses the name %q, reserved in the "
          .. "released contract; a released JSON client means the old field by it"):format(what, user.name, name))
      else
        add(file, line, "RESERVED_NO_DELETE", ("%s: reserved name %q is no longer reserved"):format(what, name))
      end
    end
  end
end

function M.check_fields(o, n, message, file, add)
  local by_number, by_name = {}, {}
  for _, f in ipairs(n.fields) do by_number[f.number], by_name[f.name] = f, f end
  local n_res = reserved(n, false)
  for _, of in ipairs(o.fields) do
    local nf = by_number[of.number]
    local what = ("%s.%s (field %d)"):format(message, of.name, of.number)
    if nf then
      if field_type(nf) ~= field_type(of) then
        add(file, nf.line, "FIELD_SAME_TYPE", ("%s changed type from %s to %s: released clients encode and "
          .. "decode it as %s"):format(what, field_type(of), field_type(nf), field_type(of)))
      end
      if cardinality(nf) ~= cardinality(of) then
        add(file, nf.line, "FIELD_SAME_CARDINALITY", ("%s changed from %s to %s: released clients keep only "
          .. "one item or misread the packed list"):format(what, cardinality(of), cardinality(nf)))
      end
      if nf.name ~= of.name or nf.json_name ~= of.json_name then
        add(file, nf.line, "FIELD_SAME_JSON_NAME", ("%s was renamed to %s (JSON %q -> %q): JSON clients "
          .. "(grpcurl, buf curl, gateways) send and read the old name"):format(what, nf.name,
          of.json_name or of.name, nf.json_name or nf.name))
      end
      if oneof_of(n, nf) ~= oneof_of(o, of) then
        add(file, nf.line, "FIELD_SAME_ONEOF", ("%s moved from oneof %s to oneof %s: setting a sibling now "
          .. "clears it, or no longer does"):format(what, oneof_of(o, of) or "(none)", oneof_of(n, nf) or "(none)"))
      end
    elseif by_name[of.name] then
      local moved = by_name[of.name]
      add(file, moved.line, "FIELD_SAME_NUMBER", ("%s was renumbered to %d: a released client reads field %d, "
        .. "which is no longer sent (it reads the default: 0, \"\" or empty)"):format(what, moved.number, of.number))
    elseif not (n_res.has_number(of.number) and n_res.names[of.name]) then
      local missing = not n_res.has_number(of.number) and not n_res.names[of.name] and "its number and name are"
        or not n_res.has_number(of.number) and "its number is" or "its name is"
      add(file, n.line, "FIELD_NO_DELETE", ("%s was removed but %s not reserved: a later field may reuse them "
        .. "and released clients would misread it"):format(what, missing))
    end
  end
  check_reserved(reserved(o, false), n_res, message, n.line, file, add,
    function(num) return by_number[num] end, function(name) return by_name[name] end)
end

function M.check_enum_values(o, n, enum, file, add)
  local by_number, by_name = {}, {}
  for _, v in ipairs(n.values) do
    by_number[v.number] = by_number[v.number] or v
    by_name[v.name] = v
  end
  local n_res = reserved(n, true)
  for _, ov in ipairs(o.values) do
    local nv = by_number[ov.number]
    local what = ("%s.%s (value %d)"):format(enum, ov.name, ov.number)
    if nv then
      local same = false
      for _, v in ipairs(n.values) do if v.number == ov.number and v.name == ov.name then same = true end end
      if not same then
        add(file, nv.line, "ENUM_VALUE_SAME_NAME", ("%s was renamed to %s: JSON clients send and read the old "
          .. "name"):format(what, nv.name))
      end
    elseif not (n_res.has_number(ov.number) and n_res.names[ov.name]) then
      add(file, n.line, "ENUM_VALUE_NO_DELETE", ("%s was removed but its number and name are not both reserved: "
        .. "a released client may still send it"):format(what))
    end
  end
  check_reserved(reserved(o, true), n_res, enum, n.line, file, add,
    function(num) return by_number[num] end, function(name) return by_name[name] end)
end

return M
