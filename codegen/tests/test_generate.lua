-- End-to-end: generation is deterministic and write-if-changed, stale files
-- go, and a rule added to a copy of proto/ is enforced by freshly generated C
-- with no hand edits.
local util = require("util")
local h = require("helpers")

local function mtimes(dir)
  local p = io.popen("cd " .. util.shell_quote(dir) .. " && find . -type f -printf '%p %T@\\n' | sort")
  local out = p:read("a")
  p:close()
  return out
end

local function args(out, docs, proto)
  return ("--out %s --docs %s%s"):format(util.shell_quote(out), util.shell_quote(docs),
    proto and (" --proto-dir " .. util.shell_quote(proto)) or "")
end

local CFLAGS = "-std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -Iruntime -I/usr/include/postgresql"

return {
  { "two runs into two directories give identical bytes", function()
    local tmp = util.mktemp_dir()
    local ok1, out1 = h.regen(args(tmp .. "/a", tmp .. "/a.md"))
    local ok2, out2 = h.regen(args(tmp .. "/b", tmp .. "/b.md"))
    h.truthy(ok1, out1); h.truthy(ok2, out2)
    local diff = util.run("diff -r " .. util.shell_quote(tmp .. "/a") .. " " .. util.shell_quote(tmp .. "/b")
      .. " && cmp " .. util.shell_quote(tmp .. "/a.md") .. " " .. util.shell_quote(tmp .. "/b.md") .. " && echo same")
    h.contains(diff, "same")
    util.remove_tree(tmp)
  end },
  { "a second run rewrites nothing and removes stale files", function()
    local tmp = util.mktemp_dir()
    local ok, out = h.regen(args(tmp .. "/gen", tmp .. "/api.md"))
    h.truthy(ok, out)
    local before = mtimes(tmp)
    os.execute("sleep 0.05")
    ok, out = h.regen(args(tmp .. "/gen", tmp .. "/api.md"))
    h.truthy(ok, out)
    h.contains(out, "0 written, 0 removed")
    h.eq(mtimes(tmp), before, "mtimes")
    local f = assert(io.open(tmp .. "/gen/old.validate.c", "w")); f:write("stale"); f:close()
    ok, out = h.regen(args(tmp .. "/gen", tmp .. "/api.md"))
    h.contains(out, "removed " .. tmp .. "/gen/old.validate.c")
    h.eq(io.open(tmp .. "/gen/old.validate.c"), nil, "stale file")
    util.remove_tree(tmp)
  end },
  { "every generated .c compiles with the project's flags", function()
    local tmp = util.mktemp_dir()
    local ok, out = h.regen(args(tmp .. "/gen", tmp .. "/api.md"))
    h.truthy(ok, out)
    for _, rel in ipairs(util.list_files(tmp .. "/gen")) do
      if rel:match("%.c$") then
        util.run(("gcc %s -I%s -c %s -o %s/x.o"):format(CFLAGS, util.shell_quote(tmp .. "/gen"),
          util.shell_quote(tmp .. "/gen/" .. rel), util.shell_quote(tmp)))
      end
    end
    util.remove_tree(tmp)
  end },
  { "fixture: a new rule in a copied proto/ is enforced after regen", function()
    local tmp = util.mktemp_dir()
    util.run(("cp -r proto %s/proto"):format(util.shell_quote(tmp)))
    local path = tmp .. "/proto/user.proto"
    local src = util.read_file(path)
    local anchor = "string name = 2 [(rules.field).string = { required: true, utf8: true, max_len: 200 }];\n"
    h.contains(src, anchor)
    src = src:gsub(anchor:gsub("%p", "%%%0"), function(m)
      return m .. "  // A short handle.\n  string nickname = 3 [(rules.field).string = {max_len: 5}];\n"
    end)
    local f = assert(io.open(path, "w")); f:write(src); f:close()
    local ok, out = h.regen(args(tmp .. "/gen", tmp .. "/api.md", tmp .. "/proto"))
    h.truthy(ok, out)
    h.contains(util.read_file(tmp .. "/api.md"), "| 3 | `nickname` | string | must be at most 5 bytes | A short handle. |")
    local check = [[
#include <string.h>
#include "user.validate.h"
static int violations(const User__CreateUserRequest *r, rt_violations *v)
{
    memset(v, 0, sizeof *v);
    user__create_user_request__validate(r, v);
    return (int)v->count;
}
int main(void)
{
    User__CreateUserRequest r = USER__CREATE_USER_REQUEST__INIT;
    rt_violations v;
    r.email = "jane@example.com";
    r.name = "Jane";
    r.nickname = "toolong";
    if (violations(&r, &v) != 1 || strcmp(v.items[0].field, "nickname") != 0
        || strcmp(v.items[0].description, "must be at most 5 bytes") != 0)
        return 1;
    r.nickname = "jane";
    return violations(&r, &v) == 0 ? 0 : 2;
}
]]
    f = assert(io.open(tmp .. "/check.c", "w")); f:write(check); f:close()
    local g = util.shell_quote(tmp .. "/gen")
    -- The real rule implementations when the runtime has them; otherwise a
    -- stand-in that lives only in this temp dir (max_len needs none of them).
    local rules = "runtime/violations.c"
    if not io.open(rules) then
      rules = tmp .. "/violations_stub.c"
      f = assert(io.open(rules, "w"))
      f:write('#include "violations.h"\nvoid rt_violations_add(rt_violations *v, const char *f, const char *d)\n'
        .. '{\n    if (v->count < RT_MAX_VIOLATIONS)\n        v->items[v->count++] = (rt_violation){f, d};\n}\n'
        .. 'bool rt_rule_utf8(const char *s, size_t n) { (void)s; return n > 0; }\n'
        .. 'bool rt_rule_email(const char *s, size_t n) { (void)s; return n > 0; }\n'
        .. 'bool rt_rule_uuid(const char *s, size_t n) { (void)s; return n == 36; }\n')
      f:close()
    end
    util.run(("gcc %s -I%s -o %s/check %s/check.c %s/user.validate.c %s/user.pb-c.c %s/rules.pb-c.c "
      .. "%s/google/protobuf/descriptor.pb-c.c %s -lprotobuf-c"):format(CFLAGS, g, util.shell_quote(tmp),
      util.shell_quote(tmp), g, g, g, g, util.shell_quote(rules)))
    util.run(util.shell_quote(tmp .. "/check"))
    util.remove_tree(tmp)
  end },
}
