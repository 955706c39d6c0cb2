-- GetUserById's statement (gen/db_statements.c), the ceiling for user.UserService/GetUserById.
SELECT "id", "email", "name", "createdAt" FROM "User" WHERE "id" = :uid;
