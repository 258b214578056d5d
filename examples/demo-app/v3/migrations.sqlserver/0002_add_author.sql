-- Who wrote each note (SQL Server). The default fills existing rows and keeps version 1.0.0, which does not know authors, working on this schema.
ALTER TABLE dbo.notes ADD author nvarchar(100) NOT NULL CONSTRAINT notes_author DEFAULT N'anonymous';
