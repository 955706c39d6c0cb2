-- gen/<svc_snake>.main.c: the daemon's main(). Kept out of libgen.a by the
-- Makefile and linked once per daemon.
local util = require("util")
local c = require("emit.c")
local template = require("template")

local M = {}

local MAIN = [[
/* $daemon$ runs what its service table lists and nothing else: the methods,
 * peers and statements of $service$__service (gen/$base$.service.c) and the
 * background tasks of $service$__tasks (handlers/$service$.c). */
int main(int argc, char **argv)
{
    return rt_daemon_main(&$service$__service, argc, argv);
}
]]

local function emit_file(file)
  local out = {}
  for _, svc in ipairs(file.services) do
    local main = template.render(MAIN, { daemon = svc.daemon, service = svc.snake, base = file.base })
    out[#out + 1] = { svc.snake .. ".main.c", c.source({ file.path }, nil, { "daemon.h", file.base .. ".service.h" },
      main) }
  end
  return out
end

M.emit = util.each_file(emit_file)

return M
