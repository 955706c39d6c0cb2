-- The sqlc-style query reader: names, kinds, docs, parameter numbering,
-- scalar and array casts, `*` expansion, and errors for malformed files.
local queries = require("parse.queries")
local h = require("helpers")

return {
  { "fixture queries: names, kinds, docs, params", function()
    local list = queries.parse(h.fixture("queries/item.sql"), "item.sql")
    local kinds = {}
    for i, q in ipairs(list) do kinds[i] = q.name .. ":" .. q.kind .. "@" .. q.line end
    h.eq(table.concat(kinds, " "), "GetItems:many@3 ItemsRankedIn:many@7 SetNote:one@11 TouchItems:exec@15 "
      .. "DeleteUnranked:execrows@19 SetPrice:one@23")
    local ranked = list[2]
    h.eq(ranked.table, "Item"); h.eq(ranked.doc, "Items whose rank is one of @ranks.")
    h.eq(ranked.params[1].name, "ranks"); h.eq(ranked.params[1].sql_type, "integer"); h.eq(ranked.params[1].array, true)
    h.eq(ranked.params[2].sql_type, "bigint"); h.eq(ranked.params[2].array, false)
    h.eq(queries.expand_star(list[3], { "id", "note" }),
      'UPDATE "Item" SET "note" = $1::text WHERE "id" = $2::text RETURNING "id", "note"')
  end },
  { "params numbered by first appearance, reused, not inside strings", function()
    local src = "-- name: Find :one\n-- doc line\nSELECT * FROM \"T\"\n WHERE b = @b::bigint AND a = @a::text\n"
      .. "   AND c = '@notparam' AND d = @b;\n"
    local q = queries.parse(src, "q.sql")[1]
    h.eq(q.doc, "doc line")
    h.eq(q.sql, "SELECT * FROM \"T\" WHERE b = $1::bigint AND a = $2::text AND c = '@notparam' AND d = $1")
    h.eq(#q.params, 2); h.eq(q.params[1].sql_type, "bigint")
    h.eq(queries.expand_star(q, { "a", "b" }), "SELECT \"a\", \"b\" FROM \"T\" WHERE b = $1::bigint AND a = $2::text "
      .. "AND c = '@notparam' AND d = $1")
  end },
  { "locks: the text parameters a statement locks, by index; anything else refused", function()
    local q = queries.parse("-- name: X :one\n-- doc\n-- locks: @b @a\nUPDATE t SET v = @v::int WHERE a = @a::text "
      .. "AND b = @b::text RETURNING *;\n", "q.sql")[1]
    h.eq(table.concat(q.locks, ","), "3,2")
    h.contains(h.raises(queries.parse, "-- name: X :one\n-- locks: @v\nUPDATE t SET v = @v::int RETURNING *;\n",
      "q.sql"), "query X: locks: @v is not one of its text parameters")
    h.contains(h.raises(queries.parse, "-- name: X :one\n-- locks: @nope\nUPDATE t SET v = @v::text RETURNING *;\n",
      "q.sql"), "locks: @nope is not one of its text parameters")
  end },
  { "casts: arrays, type arguments, and what cannot be read", function()
    local q = queries.parse("-- name: X :many\nSELECT * FROM t WHERE a = ANY(@a::TEXT[]) AND b = @b::varchar(10);\n",
      "q.sql")[1]
    h.eq(q.params[1].sql_type, "text"); h.eq(q.params[1].array, true)
    h.eq(q.params[2].sql_type, "varchar"); h.eq(q.params[2].array, false)
    h.eq(q.sql, "SELECT * FROM t WHERE a = ANY($1::TEXT[]) AND b = $2::varchar(10)")
    h.contains(h.raises(queries.parse, "-- name: X :one\nSELECT * FROM t WHERE a = @a::text[1];\n", "q.sql"),
      "q.sql:1: parameter @a: cannot read the cast ::text[1]")
    h.contains(h.raises(queries.parse, "-- name: X :one\nSELECT * FROM t WHERE a = @a::text AND b = @a::text[];\n",
      "q.sql"), "parameter @a cast to both text and text[]")
  end },
  { "errors: SQL without a name line, missing cast, bad kind", function()
    h.contains(h.raises(queries.parse, "-- header\n\nSELECT 1;\n", "q.sql"), "q.sql:3: SQL outside a query")
    h.contains(h.raises(queries.parse, "-- name: X :one\nSELECT * FROM t WHERE a = @a;\n", "q.sql"), "@a needs a ::type cast")
    h.contains(h.raises(queries.parse, "-- name: X :batch\nSELECT 1;\n", "q.sql"),
      "q.sql:1: query X: unsupported kind :batch (use :one|:many|:exec|:execrows)")
    h.contains(h.raises(queries.parse, "-- name: X\nSELECT 1;\n", "q.sql"), "malformed name line")
    h.contains(h.raises(queries.parse, "-- name: X :exec\nDELETE FROM t WHERE a = $1;\n", "q.sql"),
      "q.sql:1: write parameters as @name::type, not $1")
  end },
  { "two or more parameters come in a struct, one field per @name; one stays an argument", function()
    local header = require("util").read_file(h.generated() .. "/gen/db_queries.h")
    h.contains(header, "typedef struct {\n    const char *note;\n    const char *id;\n} db_set_note_params;")
    h.contains(header, "rt_status db_set_note(rt_db *db, rt_arena *arena, db_set_note_params in, db_item_row *out);")
    h.contains(header, "typedef struct {\n    int32_t rank;\n    const char *const *ids;\n    size_t n_ids;\n"
      .. "} db_touch_items_params;")
    h.contains(header, "rt_status db_delete_unranked(rt_db *db, const char *before, int64_t *affected);")
    h.truthy(not header:find("db_delete_unranked_params", 1, true), "one parameter: no struct")
  end },
}
