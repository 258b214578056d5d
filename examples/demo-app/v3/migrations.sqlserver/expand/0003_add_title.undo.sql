-- Undoes 0003_add_title.sql (SQL Server).
ALTER TABLE dbo.notes DROP COLUMN title;
