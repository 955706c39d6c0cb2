-- Assertions and fixtures shared by the codegen tests.
local util = require("util")

local M = {}

function M.eq(actual, expected, what)
  if actual ~= expected then
    error(("%s: expected %s, got %s"):format(what or "value", tostring(expected), tostring(actual)), 2)
  end
end

function M.truthy(v, what)
  if not v then error((what or "condition") .. " does not hold", 2) end
end

-- Calls fn and returns its error message, failing when it succeeds.
function M.raises(fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then error("expected an error", 2) end
  return tostring(err)
end

function M.contains(haystack, needle, what)
  if not haystack:find(needle, 1, true) then
    error(("%s: %q not found in %q"):format(what or "text", needle, haystack), 2)
  end
end

-- The parsed descriptor set of the real proto/ files.
function M.real_descriptors()
  local tmp = util.mktemp_dir()
  local protoc = require("protoc")
  local set = protoc.descriptor_set("proto", util.glob("proto", "%.proto$"), tmp)
  util.remove_tree(tmp)
  return require("parse.descriptor").parse(set)
end

-- Runs the generator; returns its output and whether it succeeded.
function M.regen(args)
  local p = io.popen("lua5.4 codegen/main.lua " .. args .. " 2>&1")
  local out = p:read("a")
  local ok = p:close()
  return ok, out
end

return M
