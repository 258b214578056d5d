-- Contract: version 3.0.0 always names the author, so the database no longer supplies one. Version 2.0.0 relies on this
-- default (it inserts notes without an author): it must not run any more when this applies.
ALTER TABLE notes ALTER COLUMN author DROP DEFAULT;
