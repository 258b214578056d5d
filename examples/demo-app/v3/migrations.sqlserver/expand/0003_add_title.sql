-- Expand (SQL Server): an optional title for each note. Nullable and without a default, so version 2.0.0 keeps working on it.
ALTER TABLE dbo.notes ADD title nvarchar(200) NULL;
