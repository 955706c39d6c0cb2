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

-- Applies the migration at path to schema (sql_ddl's); helper is the
-- pg_parse command (pg_tree.lua finds it when nil).
function M.apply(path, schema, helper)
  for _, stmt in ipairs((pg_tree.parse_file(path, helper))) do
    if not M.SHAPES_NO_TABLE[stmt.kind] then
      -- Blank lines first, so the DDL reader's line numbers are the file's;
      -- pg_query's statement text ends before its ";".
      sql_ddl.parse(("\n"):rep(stmt.line - 1) .. stmt.text .. ";", path, schema)
    end
  end
  return schema
end

return M
