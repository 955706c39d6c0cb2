-- The migration lint: every migration not yet released is checked, on
-- PostgreSQL's own parse tree (parse/pg_tree.lua), for what fails or locks a
-- live table (lint/migration_rules.lua), against the schema the released
-- migrations made (lint/schema.lua). Released migrations are listed with
-- their SHA-256 in contract/released-migrations.sha256 (sha256sum's format),
-- never linted again, and must not change: they already ran.
-- A statement the lint refuses may be made deliberately by a comment line
-- right above it: `-- lint: allow RULE[,RULE] why it is safe here`.
-- Run from the repository root:
--   lua5.4 codegen/migration_lint.lua check|accept [--migrations DIR]
--          [--released FILE] [--pg-parse PATH]
-- accept lints first, then records every migration as released
-- (`make accept-contract`).
local script_dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = script_dir .. "/?.lua;" .. package.path

local util = require("util")
local pg_tree = require("parse.pg_tree")
local schema = require("lint.schema")
local rules = require("lint.migration_rules")
local write = require("write")

local USAGE = "usage: lua5.4 codegen/migration_lint.lua check|accept [--migrations DIR] [--released FILE] "
  .. "[--pg-parse PATH]"

local function parse_args(argv)
  return util.command_args(argv, USAGE, { migrations = "migrations", released = "contract/released-migrations.sha256",
                 ["pg-parse"] = os.getenv("PG_PARSE") or pg_tree.DEFAULT_HELPER })
end

local function sha256(path)
  return (util.run("sha256sum " .. util.shell_quote(path)):match("^(%x+)"))
end

-- { {name, hash}... } from the released list (empty when there is none yet
-- and accept may create it).
local function released_list(opts)
  local f = io.open(opts.released, "rb")
  if not f then
    if opts.command == "accept" then return {} end
    error(("no list of released migrations at %s: run `make accept-contract` once"):format(opts.released), 0)
  end
  local list = {}
  for line in f:lines() do
    local hash, name = line:match("^(%x+)  (%S+)$")
    if hash then list[#list + 1] = { name = name, hash = hash } end
  end
  f:close()
  return list
end

-- The rules a `-- lint: allow RULE[,RULE] reason` line in a statement's
-- leading comments names, with the reason; a rule the lint does not know or
-- a missing reason is an error.
local function allowances(stmt, path)
  local allowed = {}
  for list, reason in stmt.leading:gmatch("%-%- lint: allow ([%w_,]+)([^\n]*)") do
    reason = reason:gsub("^%s+", ""):gsub("%s+$", "")
    for rule in list:gmatch("[^,]+") do
      if not rules.RULES[rule] then
        error(("%s:%d: lint: allow names an unknown rule %s (rules: %s)"):format(path, stmt.line, rule,
          table.concat(util.sorted_keys(rules.RULES), ", ")), 0)
      end
      if reason == "" then
        error(("%s:%d: lint: allow %s needs a reason after the rule"):format(path, stmt.line, rule), 0)
      end
      allowed[rule] = reason
    end
  end
  return allowed
end

local function lint(opts)
  local lines, refused = {}, 0
  local released, current = schema.new(), schema.new()
  local is_released = {}
  for _, r in ipairs(released_list(opts)) do
    local path = util.join(opts.migrations, r.name)
    local f = io.open(path, "rb")
    if not f then
      error(("%s: released migration %s is gone; a released migration already ran and stays (%s lists it)")
        :format(path, r.name, opts.released), 0)
    end
    f:close()
    if sha256(path) ~= r.hash then
      error(("%s: released migration changed since it was released (%s): it already ran on every database, "
        .. "so the change would never apply; write a new migration instead"):format(path, opts.released), 0)
    end
    is_released[r.name] = true
    local stmts = pg_tree.parse_file(path, opts["pg-parse"])
    for _, stmt in ipairs(stmts) do
      schema.apply(released, stmt)
      schema.apply(current, stmt)
    end
  end
  local names = util.glob(opts.migrations, "%.sql$")
  local linted = 0
  for _, name in ipairs(names) do
    if not is_released[name] then
      linted = linted + 1
      local path = util.join(opts.migrations, name)
      local stmts, line_at, text = pg_tree.parse_file(path, opts["pg-parse"])
      local ctx = { released = released, current = current, not_valid_here = {}, line_at = line_at,
                    no_transaction = ("\n" .. text):find("\n%-%- migrate: no%-transaction%s*\n") ~= nil }
      for _, stmt in ipairs(stmts) do
        local allowed = allowances(stmt, path)
        for _, x in ipairs(rules.check(stmt, ctx)) do
          if allowed[x.rule] then
            lines[#lines + 1] = ("%s:%d: %s (allowed: %s): %s"):format(path, x.line, x.rule, allowed[x.rule],
              x.message)
          else
            refused = refused + 1
            lines[#lines + 1] = ("%s:%d: %s: %s\n    safe way: %s"):format(path, x.line, x.rule, x.message, x.safe)
          end
        end
        schema.apply(current, stmt)
      end
    end
  end
  if refused > 0 then
    lines[#lines + 1] = ("migrations: %d statement(s) would fail or lock a live table. Make them the safe way, or, "
      .. "when it is safe here, say so on the line above the statement: `-- lint: allow RULE why` "
      .. "(docs/contracts.md, \"Evolving a contract safely\")"):format(refused)
  elseif opts.command == "check" then
    lines[#lines + 1] = ("migrations: %d new migration(s) linted, none fails or locks a live table"):format(linted)
  end
  return lines, refused == 0, names
end

local function main(argv)
  local opts = parse_args(argv)
  local lines, passed, names = lint(opts)
  if passed and opts.command == "accept" then
    local list = {}
    for _, name in ipairs(names) do
      list[#list + 1] = ("%s  %s\n"):format(sha256(util.join(opts.migrations, name)), name)
    end
    if write.write_if_changed(opts.released, table.concat(list)) then lines[#lines + 1] = "wrote   " .. opts.released
    else lines[#lines + 1] = opts.released .. " already lists every migration" end
  end
  for _, line in ipairs(lines) do (passed and io.stdout or io.stderr):write(line, "\n") end
  if not passed then os.exit(1) end
end

local ok, err = pcall(main, arg or {})
if not ok then
  io.stderr:write("migrations: " .. tostring(err) .. "\n")
  os.exit(1)
end
