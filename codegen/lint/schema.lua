-- The schema the migration lint reasons about, built from PostgreSQL parse
-- trees (parse/pg_tree.lua): which tables, columns (with their types),
-- indexes and CHECK constraints exist, and which of them the released
-- migrations made (what live traffic uses while a new migration runs).
--   tables[name] = { columns = { [col] = { type = "varchar(20)" } },
--                    not_null_checks = { [col] = true } (a validated CHECK (col IS NOT NULL)),
--                    checks = { [conname] = col or false } }
--   indexes[name] = { table = t, unique = bool }
local pg_tree = require("parse.pg_tree")

local M = {}

-- "varchar(20)", "text", "int4": the type's last name part and its modifiers.
function M.type_text(type_name)
  local names = pg_tree.names(type_name and type_name.names)
  local mods = {}
  for _, m in ipairs(type_name and type_name.typmods or {}) do
    local c = m.A_Const
    mods[#mods + 1] = c and c.ival and ("%d"):format(c.ival.ival or 0) or "?"
  end
  local t = names[#names] or "?"
  return #mods > 0 and ("%s(%s)"):format(t, table.concat(mods, ",")) or t
end

-- The column a CHECK constraint's expression proves NOT NULL ("c" IS NOT NULL), or false.
function M.not_null_column(constraint)
  local test = constraint.raw_expr and constraint.raw_expr.NullTest
  if test and test.nulltesttype == "IS_NOT_NULL" and test.arg and test.arg.ColumnRef then
    local fields = pg_tree.names(test.arg.ColumnRef.fields)
    return fields[#fields] or false
  end
  return false
end

function M.new() return { tables = {}, indexes = {} } end

local function add_column(t, def)
  t.columns[def.colname] = { type = M.type_text(def.typeName) }
end

-- Applies one parsed statement to schema s (statements it does not know,
-- such as functions, triggers and grants, change nothing the lint reads).
function M.apply(s, stmt)
  local n = stmt.node
  if stmt.kind == "CreateStmt" then
    local t = { columns = {}, not_null_checks = {}, checks = {} }
    s.tables[n.relation.relname] = t
    for _, elt in ipairs(n.tableElts or {}) do
      if elt.ColumnDef then add_column(t, elt.ColumnDef) end
    end
  elseif stmt.kind == "AlterTableStmt" then
    local t = s.tables[n.relation.relname]
    if not t then return end
    for _, c in ipairs(n.cmds or {}) do
      local cmd = c.AlterTableCmd
      if cmd.subtype == "AT_AddColumn" then add_column(t, cmd.def.ColumnDef)
      elseif cmd.subtype == "AT_DropColumn" then t.columns[cmd.name] = nil
      elseif cmd.subtype == "AT_AlterColumnType" and t.columns[cmd.name] then
        t.columns[cmd.name].type = M.type_text(cmd.def.ColumnDef.typeName)
      elseif cmd.subtype == "AT_AddConstraint" and cmd.def.Constraint.contype == "CONSTR_CHECK" then
        local con = cmd.def.Constraint
        local col = M.not_null_column(con)
        if con.conname then t.checks[con.conname] = col end
        if col and con.initially_valid then t.not_null_checks[col] = true end
      elseif cmd.subtype == "AT_ValidateConstraint" and t.checks[cmd.name] then
        t.not_null_checks[t.checks[cmd.name]] = true
      end
    end
  elseif stmt.kind == "IndexStmt" and n.idxname then
    s.indexes[n.idxname] = { table = n.relation.relname, unique = n.unique or false }
  elseif stmt.kind == "RenameStmt" then
    if n.renameType == "OBJECT_TABLE" and s.tables[n.relation.relname] then
      s.tables[n.newname], s.tables[n.relation.relname] = s.tables[n.relation.relname], nil
    elseif n.renameType == "OBJECT_COLUMN" and s.tables[n.relation.relname] then
      local cols = s.tables[n.relation.relname].columns
      cols[n.newname], cols[n.subname] = cols[n.subname], nil
    end
  elseif stmt.kind == "DropStmt" then
    for _, obj in ipairs(n.objects or {}) do
      local names = pg_tree.names(obj.List and obj.List.items)
      local name = names[#names]
      if n.removeType == "OBJECT_TABLE" then s.tables[name] = nil
      elseif n.removeType == "OBJECT_INDEX" then s.indexes[name] = nil end
    end
  end
end

return M
