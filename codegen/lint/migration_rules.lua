-- The migration lint's rules (in the spirit of squawk and strong_migrations):
-- what fails, or locks a table live traffic uses, when a new migration runs
-- against the released database while the released daemons serve. "Existing"
-- means made by a released migration: a table a new migration creates is
-- empty and unused, and nothing on it is refused.
-- check(stmt, ctx) -> { {line, rule, message, safe}... } for one parsed
-- statement (parse/pg_tree.lua); ctx = { released, current (lint/schema.lua),
-- no_transaction, not_valid_here = { ["t\0con"] = true }, line_at }.
local pg_tree = require("parse.pg_tree")
local schema = require("lint.schema")

local M = {}

local NO_TX = "in a migration of its own whose first line is `-- migrate: no-transaction`"

-- Every rule, with the safe way to do what it refuses.
M.RULES = {
  ADD_COLUMN_NOT_NULL_WITHOUT_DEFAULT = "add the column nullable (or with a constant DEFAULT), backfill it in "
    .. "batches, then add `CHECK (col IS NOT NULL) NOT VALID`, VALIDATE it in a later migration, and SET NOT NULL",
  ADD_COLUMN_VOLATILE_DEFAULT = "add the column without a default, then `ALTER COLUMN ... SET DEFAULT ...` "
    .. "(new rows only) and backfill the existing rows in batches",
  ALTER_COLUMN_TYPE = "expand/contract: add a column of the new type, write both, backfill in batches, "
    .. "move readers to it in a release, then drop the old column in a later one",
  SET_NOT_NULL = "add `CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID`, VALIDATE it in a later migration, "
    .. "then SET NOT NULL (PostgreSQL skips the scan when a valid CHECK proves it) and drop the CHECK",
  CREATE_INDEX_NOT_CONCURRENTLY = "CREATE INDEX CONCURRENTLY, " .. NO_TX,
  DROP_INDEX_NOT_CONCURRENTLY = "DROP INDEX CONCURRENTLY, " .. NO_TX,
  CONCURRENTLY_IN_TRANSACTION = "put it " .. NO_TX .. " (`make migrate` runs it outside a transaction)",
  NO_TRANSACTION_MIXED = "a `-- migrate: no-transaction` migration holds only CREATE/DROP INDEX CONCURRENTLY "
    .. "(each re-runnable: IF NOT EXISTS / IF EXISTS); move the other statements to a transactional migration",
  ADD_CONSTRAINT_WITHOUT_NOT_VALID = "`ADD CONSTRAINT ... NOT VALID` (new rows are checked at once), then "
    .. "`ALTER TABLE ... VALIDATE CONSTRAINT ...` in a later migration",
  ADD_UNIQUE_CONSTRAINT = "CREATE UNIQUE INDEX CONCURRENTLY " .. NO_TX .. ", then "
    .. "`ALTER TABLE ... ADD CONSTRAINT c UNIQUE USING INDEX idx` in a later one",
  VALIDATE_IN_SAME_MIGRATION = "VALIDATE the constraint in a later migration than the one adding it NOT VALID",
  DROP_COLUMN = "expand/contract: release daemons that no longer read the column first; only then drop it "
    .. "(mark the statement `-- lint: allow DROP_COLUMN <which release stopped reading it>`)",
  RENAME_COLUMN = "expand/contract: add the new column, write both, backfill, release readers of the new one, "
    .. "then drop the old one (docs/contracts.md, \"Evolving a contract safely\")",
  DROP_TABLE = "expand/contract: release daemons that no longer use the table first; only then drop it "
    .. "(mark the statement `-- lint: allow DROP_TABLE <which release stopped using it>`)",
  RENAME_TABLE = "expand/contract: create the new table, write both, backfill, release readers of the new one, "
    .. "then drop the old one",
}

-- Functions a DEFAULT may call without rewriting the table: PostgreSQL
-- evaluates a STABLE or IMMUTABLE default once and stores it in the catalog.
local NOT_VOLATILE = { now = true, current_timestamp = true, statement_timestamp = true,
  transaction_timestamp = true, timezone = true, lower = true, upper = true, btrim = true, to_char = true,
  make_interval = true, jsonb_build_object = true, json_build_object = true }

-- The volatile (or unknown) function a default calls, or nil.
local function volatile_call(expr)
  local found
  pg_tree.walk({ x = expr }, function(kind, node)
    if kind == "FuncCall" and not found then
      local names = pg_tree.names(node.funcname)
      local name = names[#names]
      if not NOT_VOLATILE[name] then found = name end
    end
  end)
  return found
end

local SERIAL = { serial = true, bigserial = true, smallserial = true, serial4 = true, serial8 = true, serial2 = true }

-- Type changes that keep the stored bytes (no rewrite, no scan).
local function binary_compatible(old, new)
  local old_base, old_len = old:match("^(%w+)%(?(%d*)%)?$")
  local new_base, new_len = new:match("^(%w+)%(?(%d*)%)?$")
  if old_base == "varchar" and new_base == "text" then return true end
  if old_base == "varchar" and new_base == "varchar" then
    return new_len == "" or (old_len ~= "" and tonumber(new_len) >= tonumber(old_len))
  end
  return old == new
end

local function quoted(name) return '"' .. name .. '"' end

-- Is table t one the released migrations made (live traffic uses it)?
local function existing(ctx, t) return ctx.released.tables[t] ~= nil and ctx.current.tables[t] ~= nil end

local function add_column_findings(ctx, t, def, add)
  local line = ctx.line_at(def.location or 0)
  local not_null, default, identity, unique, checked, references
  for _, c in ipairs(def.constraints or {}) do
    local con = c.Constraint
    if con.contype == "CONSTR_NOTNULL" or con.contype == "CONSTR_PRIMARY" then not_null = true end
    if con.contype == "CONSTR_DEFAULT" then default = con.raw_expr end
    if con.contype == "CONSTR_IDENTITY" or con.contype == "CONSTR_GENERATED" then identity = true end
    if con.contype == "CONSTR_PRIMARY" or con.contype == "CONSTR_UNIQUE" then unique = true end
    if con.contype == "CONSTR_CHECK" then checked = true end
    if con.contype == "CONSTR_FOREIGN" then references = con.pktable and con.pktable.relname end
  end
  local what = ("%s.%s"):format(quoted(t), quoted(def.colname))
  local type_name = schema.type_text(def.typeName)
  if not_null and not default and not identity and not SERIAL[type_name] then
    add(line, "ADD_COLUMN_NOT_NULL_WITHOUT_DEFAULT", ("adding %s NOT NULL without a DEFAULT: fails (23502) on "
      .. "a table with rows, after waiting for ACCESS EXCLUSIVE on %s"):format(what, quoted(t)))
  end
  local volatile = default and volatile_call(default)
  if volatile or identity or SERIAL[type_name] then
    add(line, "ADD_COLUMN_VOLATILE_DEFAULT", ("adding %s with %s: every row gets its own value, so PostgreSQL "
      .. "rewrites the whole table under ACCESS EXCLUSIVE (no reads, no writes) for as long as that takes")
      :format(what, volatile and ("DEFAULT %s(), which may be volatile"):format(volatile)
        or identity and "an identity or generated value" or type_name))
  end
  if unique then
    add(line, "ADD_UNIQUE_CONSTRAINT", ("adding %s as UNIQUE or PRIMARY KEY builds its index under ACCESS "
      .. "EXCLUSIVE on %s: no reads or writes until every row is indexed"):format(what, quoted(t)))
  end
  if checked or references then
    add(line, "ADD_CONSTRAINT_WITHOUT_NOT_VALID", ("adding %s with a %s scans every row while holding %s")
      :format(what, checked and "CHECK" or "REFERENCES " .. quoted(references),
        checked and "ACCESS EXCLUSIVE (no reads, no writes)" or "SHARE ROW EXCLUSIVE on both tables (no writes)"))
  end
end

local function alter_table(stmt, ctx, add)
  local n = stmt.node
  local t = n.relation.relname
  local live = existing(ctx, t)
  for _, c in ipairs(n.cmds or {}) do
    local cmd = c.AlterTableCmd
    local col = cmd.name and ("%s.%s"):format(quoted(t), quoted(cmd.name))
    if cmd.subtype == "AT_AddColumn" and live then
      add_column_findings(ctx, t, cmd.def.ColumnDef, add)
    elseif cmd.subtype == "AT_AlterColumnType" and live and ctx.released.tables[t].columns[cmd.name] then
      local old = ctx.current.tables[t].columns[cmd.name]
      local new = schema.type_text(cmd.def.ColumnDef.typeName)
      if not (old and binary_compatible(old.type, new)) then
        add(ctx.line_at(cmd.def.ColumnDef.location or 0), "ALTER_COLUMN_TYPE", ("changing %s from %s to %s "
          .. "rewrites the table and its indexes under ACCESS EXCLUSIVE (no reads, no writes) for as long as that "
          .. "takes, and the released daemons still bind the old type"):format(col, old and old.type or "?", new))
      end
    elseif cmd.subtype == "AT_SetNotNull" and live and not ctx.current.tables[t].not_null_checks[cmd.name] then
      add(stmt.line, "SET_NOT_NULL", ("SET NOT NULL on %s scans every row under ACCESS EXCLUSIVE (no reads, no "
        .. "writes) unless a validated CHECK (%s IS NOT NULL) already proves it"):format(col, quoted(cmd.name)))
    elseif cmd.subtype == "AT_AddConstraint" then
      local con = cmd.def.Constraint
      local line = ctx.line_at(con.location or 0)
      local name = con.conname and quoted(con.conname) or "a constraint"
      if con.contype == "CONSTR_FOREIGN" or con.contype == "CONSTR_CHECK" then
        local not_valid = con.contype == "CONSTR_FOREIGN" and con.skip_validation
          or con.contype == "CONSTR_CHECK" and not con.initially_valid
        if not_valid and con.conname then ctx.not_valid_here[t .. "\0" .. con.conname] = true end
        if live and not not_valid then
          add(line, "ADD_CONSTRAINT_WITHOUT_NOT_VALID", ("adding %s %s to %s without NOT VALID checks every "
            .. "row while holding %s"):format(con.contype == "CONSTR_CHECK" and "CHECK" or "FOREIGN KEY", name,
            quoted(t), con.contype == "CONSTR_CHECK" and "ACCESS EXCLUSIVE (no reads, no writes)"
              or "SHARE ROW EXCLUSIVE on both tables (no writes)"))
        end
      elseif (con.contype == "CONSTR_UNIQUE" or con.contype == "CONSTR_PRIMARY"
          or con.contype == "CONSTR_EXCLUSION") and live and not con.indexname then
        add(line, "ADD_UNIQUE_CONSTRAINT", ("adding %s to %s builds its index under ACCESS EXCLUSIVE (no reads, "
          .. "no writes) until every row is indexed"):format(name, quoted(t)))
      end
    elseif cmd.subtype == "AT_ValidateConstraint" and ctx.not_valid_here[t .. "\0" .. cmd.name] then
      add(stmt.line, "VALIDATE_IN_SAME_MIGRATION", ("VALIDATE CONSTRAINT %s in the migration that adds it: the "
        .. "migration is one transaction, so the lock the ADD took is held through the whole validating scan")
        :format(quoted(cmd.name)))
    elseif cmd.subtype == "AT_DropColumn" and live and ctx.released.tables[t].columns[cmd.name] then
      add(stmt.line, "DROP_COLUMN", ("dropping %s, which the released daemons read (their generated statements "
        .. "name every column of %s): their calls fail with 42703 from the moment this commits; an "
        .. "expand/contract step is needed"):format(col, quoted(t)))
    end
  end
end

local function index_stmt(stmt, ctx, add)
  local n = stmt.node
  local t = n.relation.relname
  if n.concurrent and not ctx.no_transaction then
    add(stmt.line, "CONCURRENTLY_IN_TRANSACTION", "CREATE INDEX CONCURRENTLY cannot run inside a transaction "
      .. "block, and `make migrate` runs each migration in one: it fails (25001) at migrate time")
  elseif not n.concurrent and existing(ctx, t) then
    add(stmt.line, "CREATE_INDEX_NOT_CONCURRENTLY", ("CREATE INDEX %s on %s without CONCURRENTLY holds SHARE "
      .. "on the table (no INSERT, UPDATE or DELETE) for the whole build"):format(quoted(n.idxname or "?"),
      quoted(t)))
  end
end

local function drop_stmt(stmt, ctx, add)
  local n = stmt.node
  for _, obj in ipairs(n.objects or {}) do
    local names = pg_tree.names(obj.List and obj.List.items)
    local name = names[#names]
    if n.removeType == "OBJECT_TABLE" and ctx.released.tables[name] and ctx.current.tables[name] then
      add(stmt.line, "DROP_TABLE", ("dropping %s, which the released daemons use: their calls fail with 42P01 "
        .. "from the moment this commits; an expand/contract step is needed"):format(quoted(name)))
    elseif n.removeType == "OBJECT_INDEX" then
      local index = ctx.released.indexes[name]
      if n.concurrent and not ctx.no_transaction then
        add(stmt.line, "CONCURRENTLY_IN_TRANSACTION", "DROP INDEX CONCURRENTLY cannot run inside a transaction "
          .. "block, and `make migrate` runs each migration in one: it fails (25001) at migrate time")
      elseif not n.concurrent and index and existing(ctx, index.table) then
        add(stmt.line, "DROP_INDEX_NOT_CONCURRENTLY", ("DROP INDEX %s takes ACCESS EXCLUSIVE on %s: it waits "
          .. "behind every running query and blocks all reads and writes meanwhile"):format(quoted(name),
          quoted(index.table)))
      end
    end
  end
end

local function rename_stmt(stmt, ctx, add)
  local n = stmt.node
  local t = n.relation and n.relation.relname
  if n.renameType == "OBJECT_COLUMN" and t and existing(ctx, t) and ctx.released.tables[t].columns[n.subname] then
    add(stmt.line, "RENAME_COLUMN", ("renaming %s.%s to %s: the released daemons still name %s, so their calls "
      .. "fail with 42703 until every replica runs the new release; an expand/contract step is needed")
      :format(quoted(t), quoted(n.subname), quoted(n.newname), quoted(n.subname)))
  elseif n.renameType == "OBJECT_TABLE" and t and existing(ctx, t) then
    add(stmt.line, "RENAME_TABLE", ("renaming %s to %s: the released daemons still name %s, so their calls fail "
      .. "with 42P01 until every replica runs the new release; an expand/contract step is needed")
      :format(quoted(t), quoted(n.newname), quoted(t)))
  end
end

-- Statements a no-transaction migration may hold: concurrent index builds
-- and drops, each of which PostgreSQL runs in transactions of its own.
local function concurrent_index_op(stmt)
  return (stmt.kind == "IndexStmt" or stmt.kind == "DropStmt" and stmt.node.removeType == "OBJECT_INDEX")
    and stmt.node.concurrent
end

function M.check(stmt, ctx)
  local findings = {}
  local function add(line, rule, message)
    findings[#findings + 1] = { line = line, rule = rule, message = message, safe = assert(M.RULES[rule], rule) }
  end
  if ctx.no_transaction and not concurrent_index_op(stmt) then
    add(stmt.line, "NO_TRANSACTION_MIXED", ("%s in a `-- migrate: no-transaction` migration: if it fails, what "
      .. "ran before it stays applied and the migration is not recorded"):format(stmt.kind))
  end
  if stmt.kind == "AlterTableStmt" then alter_table(stmt, ctx, add)
  elseif stmt.kind == "IndexStmt" then index_stmt(stmt, ctx, add)
  elseif stmt.kind == "DropStmt" then drop_stmt(stmt, ctx, add)
  elseif stmt.kind == "RenameStmt" then rename_stmt(stmt, ctx, add) end
  return findings
end

return M
