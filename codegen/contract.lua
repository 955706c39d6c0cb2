-- The contract gate: compares proto/ with the released contract (a committed
-- FileDescriptorSet, contract/released.pb) and refuses wire- or JSON-breaking
-- changes (compat/wire_rules.lua), naming file:line, the rule and the safe
-- way; warns about tightened validation rules (compat/rule_tightening.lua).
-- ALLOW_BREAKING=RULE[,RULE...] lets the named rules pass, deliberately.
-- Run from the repository root:
--   lua5.4 codegen/contract.lua check  [--proto-dir DIR] [--baseline FILE]
--   lua5.4 codegen/contract.lua accept [--proto-dir DIR] [--baseline FILE]
-- accept checks first (so a breaking change still needs ALLOW_BREAKING),
-- then writes the baseline: `make accept-contract`, a reviewed diff.
local script_dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = script_dir .. "/?.lua;" .. package.path

local util = require("util")
local protoc = require("protoc")
local descriptor = require("parse.descriptor")
local wire_rules = require("compat.wire_rules")
local rule_tightening = require("compat.rule_tightening")
local write = require("write")

local USAGE = "usage: lua5.4 codegen/contract.lua check|accept [--proto-dir DIR] [--baseline FILE]"

local function parse_args(argv)
  return util.command_args(argv, USAGE, { ["proto-dir"] = "proto", baseline = "contract/released.pb" })
end

-- The rules ALLOW_BREAKING names; an unknown name is an error, so a typo
-- never lets everything through nor silently nothing.
local function allowed_rules(env)
  local allowed = {}
  for rule in (env or ""):gmatch("[^,%s]+") do
    if not wire_rules.RULES[rule] then
      error(("ALLOW_BREAKING: unknown rule %s (rules: %s)"):format(rule,
        table.concat(util.sorted_keys(wire_rules.RULES), ", ")), 0)
    end
    allowed[rule] = true
  end
  return allowed
end

-- Compares proto_dir with the baseline; returns the report lines and
-- whether the contract may go ahead.
local function check(opts, tmp)
  local names = util.glob(opts["proto-dir"], "%.proto$")
  if #names == 0 then error("no .proto files in " .. opts["proto-dir"], 0) end
  local f = io.open(opts.baseline, "rb")
  if not f and opts.command ~= "accept" then
    error(("no released contract at %s: run `make accept-contract` once to record proto/ as released")
      :format(opts.baseline), 0)
  end
  -- The first accept has nothing to compare with.
  local released = f and descriptor.parse(f:read("a")) or { files = {}, messages = {} }
  if f then f:close() end
  local current = descriptor.parse(protoc.descriptor_set(opts["proto-dir"], names, tmp))
  local files = {}
  for _, n in ipairs(names) do files[n] = true end
  for _, file in ipairs(released.files) do files[file.name] = true end

  local allowed = allowed_rules(os.getenv("ALLOW_BREAKING"))
  local lines, refused = {}, 0
  for _, w in ipairs(rule_tightening.check(released, current, files)) do
    lines[#lines + 1] = ("%s:%d: warning: %s"):format(util.join(opts["proto-dir"], w.file), w.line, w.message)
  end
  for _, x in ipairs(wire_rules.check(released, current, files)) do
    local verdict = allowed[x.rule] and " (allowed by ALLOW_BREAKING)" or ""
    if not allowed[x.rule] then refused = refused + 1 end
    lines[#lines + 1] = ("%s:%d: %s%s: %s\n    safe way: %s"):format(util.join(opts["proto-dir"], x.file), x.line,
      x.rule, verdict, x.message, x.safe)
  end
  if refused > 0 then
    lines[#lines + 1] = ("contract: %d breaking change(s) against the released contract %s. Make them the safe "
      .. "way, or accept them deliberately: ALLOW_BREAKING=RULE[,RULE] make accept-contract (docs/contracts.md, "
      .. "\"Evolving a contract safely\")"):format(refused, opts.baseline)
  end
  if refused == 0 and opts.command == "check" then
    lines[#lines + 1] = ("contract: %s is wire- and JSON-compatible with %s"):format(opts["proto-dir"], opts.baseline)
  end
  return lines, refused == 0, names
end

local function main(argv)
  local opts = parse_args(argv)
  local tmp = util.mktemp_dir()
  local ok, lines, passed, names = pcall(check, opts, tmp)
  if ok and passed and opts.command == "accept" then
    local set_ok, set = pcall(protoc.released_set, opts["proto-dir"], names, tmp)
    if not set_ok then ok, lines = false, set
    elseif write.write_if_changed(opts.baseline, set) then lines[#lines + 1] = "wrote   " .. opts.baseline
    else lines[#lines + 1] = opts.baseline .. " is already the current contract" end
  end
  util.remove_tree(tmp)
  if not ok then error(lines, 0) end
  for _, line in ipairs(lines) do (passed and io.stdout or io.stderr):write(line, "\n") end
  if not passed then os.exit(1) end
end

local ok, err = pcall(main, arg or {})
if not ok then
  io.stderr:write("contract: " .. tostring(err) .. "\n")
  os.exit(1)
end
