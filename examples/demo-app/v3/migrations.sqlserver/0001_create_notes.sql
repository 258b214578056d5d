-- Notes left by visitors of the demo site (SQL Server).
CREATE TABLE dbo.notes (
  id int IDENTITY(1,1) NOT NULL CONSTRAINT notes_pk PRIMARY KEY,
  body nvarchar(1000) NOT NULL,
  created_at datetimeoffset(3) NOT NULL CONSTRAINT notes_created_at DEFAULT SYSDATETIMEOFFSET()
);
