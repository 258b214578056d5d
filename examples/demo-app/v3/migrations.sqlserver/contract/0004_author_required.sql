-- Contract (SQL Server): version 3.0.0 always names the author, so the database no longer supplies one; version 2.0.0
-- relies on this default and must not run any more when this applies.
ALTER TABLE dbo.notes DROP CONSTRAINT notes_author;
