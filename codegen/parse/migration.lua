-- Reads one migration into the schema: PostgreSQL's own parser (pg_tree.lua)
-- splits it into statements and says what each one is. Statements that
-- shape no table the generator maps -- roles (also inside DO blocks),
-- grants, comments, functions, triggers, settings -- are read past; every
-- other one goes to the DDL reader (sql_ddl.lua) at its own line, which
-- applies it or refuses it with file:line.
local pg_tree = require("parse.pg_tree")
local sql_ddl = require("parse.sql_ddl")

local M = {}

M.SHAPES_NO_TABLE = {
  DoStmt = true, GrantStmt = true, GrantRoleStmt = true, AlterDefaultPrivilegesStmt = true,
  CreateRoleStmt = true, AlterRoleStmt = true, AlterRoleSetStmt = true, DropRoleStmt = true,
  CommentStmt = true, CreateFunctionStmt = true, CreateTrigStmt = true, VariableSetStmt = true,
  CreatePolicyStmt = true, AlterPolicyStmt = true, AlterOwnerStmt = true,
}

-- ALTER TABLE actions that change no column, key or index: row-level
-- security, triggers on or off, owner, replica identity. A statement made
-- only of these is read past too.
M.ALTER_SHAPES_NO_TABLE = {
  AT_EnableRowSecurity = true, AT_DisableRowSecurity = true, AT_ForceRowSecurity = true,
  AT_NoForceRowSecurity = true, AT_EnableTrig = true, AT_DisableTrig = true, AT_EnableTrigAll = true,
  AT_DisableTrigAll = true, AT_EnableTrigUser = true, AT_DisableTrigUser = true, AT_ChangeOwner = true,
  AT_ReplicaIdentity = true,
}

local function shapes_no_table(stmt)
  if M.SHAPES_NO_TABLE[stmt.kind] then return true end
  if stmt.kind ~= "AlterTableStmt" then return false end
  for _, c in ipairs(stmt.node.cmds or {}) do
    if not M.ALTER_SHAPES_NO_TABLE[c.AlterTableCmd.subtype] then return false end
  end
  return true
end

-- Applies the migration at path to schema (sql_ddl's); helper is the
-- pg_parse command (pg_tree.lua finds it when nil).
function M.apply(path, schema, helper)
  for _, stmt in ipairs((pg_tree.parse_file(path, helper))) do
    if not shapes_no_table(stmt) then
      -- Blank lines first, so the DDL reader's line numbers are the file's;
      -- pg_query's statement text ends before its ";".
      sql_ddl.parse(("\n"):rep(stmt.line - 1) .. stmt.text .. ";", path, schema)
    end
  end
  return schema
end

return M
