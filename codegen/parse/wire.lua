-- Protocol buffer wire-format reader: just enough to walk a serialized message
-- field by field. Schema knowledge lives in descriptor.lua.
local M = {}

M.VARINT, M.FIXED64, M.LEN, M.START_GROUP, M.END_GROUP, M.FIXED32 = 0, 1, 2, 3, 4, 5

-- Returns value, next position. Lua integers are 64-bit two's complement, so
-- a ten-byte negative int64 wraps into the right negative number.
function M.read_varint(buf, pos)
  local value, shift = 0, 0
  while true do
    local b = buf:byte(pos)
    if not b then error("truncated varint at byte " .. pos, 0) end
    if shift > 63 then error("varint longer than 10 bytes at byte " .. pos, 0) end
    value = value | ((b & 0x7f) << shift)
    pos = pos + 1
    if b < 0x80 then return value, pos end
    shift = shift + 7
  end
end

-- int32 travels as a sign-extended 64-bit varint; keep the low 32 bits, signed.
function M.to_int32(v)
  v = v & 0xffffffff
  if v >= 0x80000000 then v = v - 0x100000000 end
  return v
end

function M.to_uint32(v)
  return v & 0xffffffff
end

local function skip_group(buf, pos, number)
  while true do
    local key
    key, pos = M.read_varint(buf, pos)
    local wt, n = key & 7, key >> 3
    if wt == M.END_GROUP then
      if n ~= number then error("mismatched end group at byte " .. pos, 0) end
      return pos
    end
    local _
    _, pos = M.read_value(buf, pos, wt, n)
  end
end

-- Returns the raw value of one field (integer, or a string for LEN and fixed
-- widths) and the next position.
function M.read_value(buf, pos, wire_type, number)
  if wire_type == M.VARINT then
    return M.read_varint(buf, pos)
  elseif wire_type == M.LEN then
    local len
    len, pos = M.read_varint(buf, pos)
    if len < 0 or pos + len - 1 > #buf then error("length-delimited field past the end at byte " .. pos, 0) end
    return buf:sub(pos, pos + len - 1), pos + len
  elseif wire_type == M.FIXED64 or wire_type == M.FIXED32 then
    local width = wire_type == M.FIXED64 and 8 or 4
    if pos + width - 1 > #buf then error("truncated fixed field at byte " .. pos, 0) end
    return buf:sub(pos, pos + width - 1), pos + width
  elseif wire_type == M.START_GROUP then
    return nil, skip_group(buf, pos, number)
  end
  error("invalid wire type " .. wire_type .. " at byte " .. pos, 0)
end

-- Iterates (field number, wire type, raw value) over a serialized message.
function M.fields(buf)
  local pos = 1
  -- Groups (deprecated, never in descriptors) are skipped, not reported.
  return function()
    while pos <= #buf do
      local key
      key, pos = M.read_varint(buf, pos)
      local number, wt = key >> 3, key & 7
      if number == 0 then error("field number 0 at byte " .. pos, 0) end
      local value
      value, pos = M.read_value(buf, pos, wt, number)
      if wt ~= M.START_GROUP then return number, wt, value end
    end
  end
end

-- A packed repeated varint field: the payload is varints back to back.
function M.unpack_varints(payload)
  local values, pos = {}, 1
  while pos <= #payload do
    values[#values + 1], pos = M.read_varint(payload, pos)
  end
  return values
end

return M
