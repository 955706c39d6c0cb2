-- The wire reader on hand-made inputs: multi-byte and negative varints,
-- packed fields, unknown fields (every wire type) and truncation.
local wire = require("parse.wire")
local descriptor = require("parse.descriptor")
local h = require("helpers")

local function varint(n)
  local out = {}
  repeat
    local b = n & 0x7f
    n = n >> 7 -- logical shift: negative numbers take ten bytes
    out[#out + 1] = string.char(n ~= 0 and (b | 0x80) or b)
  until n == 0
  return table.concat(out)
end

return {
  { "varints of 1, 2, 5 and 10 bytes", function()
    h.eq((wire.read_varint("\x01", 1)), 1)
    h.eq((wire.read_varint("\xac\x02", 1)), 300)
    h.eq((wire.read_varint(varint(4294967295), 1)), 4294967295)
    local v, next_pos = wire.read_varint(varint(-1), 1)
    h.eq(v, -1); h.eq(next_pos, 11)
    h.eq(wire.to_int32(v), -1)
    h.eq(wire.to_int32((wire.read_varint(varint(-2147483648), 1))), -2147483648)
    h.eq(wire.to_uint32((wire.read_varint(varint(4294967295), 1))), 4294967295)
  end },
  { "truncated varint and overlong field are errors", function()
    h.contains(h.raises(wire.read_varint, "\x80\x80", 1), "truncated varint")
    h.contains(h.raises(function() for _ in wire.fields("\x0a\x05ab") do end end), "past the end")
  end },
  { "packed and unpacked repeated fields both decode", function()
    -- Location.path (field 1) packed [4, 0, 2, 300] then one unpacked 7.
    local packed = varint(4) .. varint(0) .. varint(2) .. varint(300)
    local buf = "\x0a" .. varint(#packed) .. packed .. "\x08\x07"
    local loc = descriptor.decode(buf, descriptor.SCHEMA, "Location")
    h.eq(table.concat(loc.path, ","), "4,0,2,300,7")
  end },
  { "unknown fields of every wire type are kept or skipped", function()
    -- name "x", unknown varint 99, fixed64, fixed32, group, then number 5.
    local buf = "\x0a\x01x" .. varint(99 << 3 | 0) .. varint(-5) .. varint(98 << 3 | 1) .. ("\0"):rep(8)
      .. varint(97 << 3 | 5) .. ("\0"):rep(4) .. varint(96 << 3 | 3) .. "\x08\x01" .. varint(96 << 3 | 4) .. "\x18\x05"
    local f = descriptor.decode(buf, descriptor.SCHEMA, "FieldDescriptorProto")
    h.eq(f.name, "x"); h.eq(f.number, 5)
    h.eq(#f._unknown, 3) -- the group is skipped
    h.eq(f._unknown[1].number, 99); h.eq(f._unknown[1].value, -5)
  end },
  { "wire type 6 is rejected", function()
    h.contains(h.raises(function() for _ in wire.fields("\x0e") do end end), "invalid wire type")
  end },
}
