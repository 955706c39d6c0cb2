-- gen/<svc_snake>.main.c: the daemon's main(). Kept out of libgen.a by the
-- Makefile and linked once per daemon.
local util = require("util")
local c = require("emit.c")

local M = {}

local function emit_file(file)
  local out = {}
  for _, svc in ipairs(file.services) do
    out[#out + 1] = { svc.snake .. ".main.c", c.source({ file.path }, nil, { "daemon.h", file.base .. ".service.h" },
      "int main(int argc, char **argv)\n{\n    return rt_daemon_main(&" .. svc.snake .. "__service, argc, argv);\n}\n") }
  end
  return out
end

M.emit = util.each_file(emit_file)

return M
