-- codegen/template.lua, the whole-line templates every emitter writes its C
-- with: named holes, blocks indented like their hole or dropped when empty,
-- a missing value raising, and long lines wrapped as emit/c.lua wraps calls.
local h = require("helpers")
local template = require("template")
local c = require("emit.c")

return {
  { "holes are filled by name; $$ is a dollar", function()
    h.eq(template.render("int $name$ = $n$; /* $$1 */\n", { name = "x", n = 3 }), "int x = 3; /* $1 */\n")
  end },
  { "a block is indented like its hole, and an empty or false block drops its line", function()
    local t = "{\n    $body$\n    $none$\n    $off$\n}\n"
    h.eq(template.render(t, { body = "a;\nb;\n", none = "", off = false }), "{\n    a;\n    b;\n}\n")
  end },
  { "a hole without a value raises, naming it", function()
    local ok, err = pcall(template.render, "f($x$);\n", {})
    h.eq(ok, false)
    h.contains(err, "$x$")
  end },
  { "a line past the width wraps after its call's parenthesis like c.call", function()
    local args = { "rt_call *call", "const Some__VeryLongRequestTypeName *request", "Some__VeryLongResponse **r" }
    local line = "rt_status some_service__call_a_method(" .. table.concat(args, ", ") .. ");"
    h.truthy(#line > c.WIDTH, "the line is long")
    h.eq(template.render(line .. "\n", {}), c.call("", "rt_status some_service__call_a_method", args, ";") .. "\n")
    -- string literals and nested parentheses stay whole
    local call = '    return f(g(a, b), "x, y", ' .. string.rep("z", 80) .. ");"
    h.eq(template.render(call, {}), c.call("    ", "return f", { "g(a, b)", '"x, y"', string.rep("z", 80) }, ";"))
  end },
}
